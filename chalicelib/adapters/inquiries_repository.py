"""The inquiries table: the only code that maps inquiry items to ``Inquiry`` (and report facts).

Every change is conditional on the status it leaves and on the version read, so two sweeps, or
a sweep and an answer, never both record a breach; a message joining an open inquiry never
touches the inquiry item, which keeps the staff side's answer free of inbound races.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.outbound import Answer, Reopening
from . import models as m
from .keys import agency_status, staff_status
from .writes import WriteQueue

AWAITING = (InquiryStatus.OPEN.value, InquiryStatus.BREACHED.value)
_ONE_MICROSECOND = timedelta(microseconds=1)


def inquiry_item(inquiry: Inquiry) -> m.InquiryModel:
    status = inquiry.status.value
    return m.InquiryModel(
        inquiry_id=inquiry.inquiry_id,
        agency_id=inquiry.agency_id,
        client_id=inquiry.client_id,
        staff_id=inquiry.staff_id,
        status=status,
        staff_status=staff_status(inquiry.agency_id, inquiry.staff_id, status),
        agency_status=agency_status(inquiry.agency_id, status),
        opened_at=inquiry.opened_at,
        due_at=inquiry.due_at,
        first_due_at=inquiry.due_at,
        message_count=inquiry.message_count,
        crisis=inquiry.crisis,
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
        ended_at=item.ended_at,
        first_response_business_seconds=(
            int(item.first_response_business_seconds) if item.first_response_business_seconds is not None else None
        ),
        first_response_late=bool(item.first_response_late),
        first_response_message_id=item.first_response_message_id,
        answer_message_id=item.answer_message_id,
        first_due_at=item.first_due_at,
        crisis=bool(item.crisis),
    )


def _status_actions(inquiry: Inquiry, status: InquiryStatus) -> list[Any]:
    return [
        m.InquiryModel.status.set(status.value),
        m.InquiryModel.staff_status.set(staff_status(inquiry.agency_id, inquiry.staff_id, status.value)),
        m.InquiryModel.agency_status.set(agency_status(inquiry.agency_id, status.value)),
    ]


def _proxy(inquiry: Inquiry) -> m.InquiryModel:
    return m.InquiryModel(inquiry_id=inquiry.inquiry_id, version=inquiry.version)


class InquiryRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- reads ----------------------------------------------------------------------------------

    def get(self, inquiry_id: str) -> Inquiry | None:
        try:
            return inquiry_from(m.InquiryModel.get(inquiry_id, consistent_read=True))
        except DoesNotExist:
            return None

    def many(self, inquiry_ids: Iterable[str]) -> dict[str, Inquiry]:
        """Several inquiries by id in BatchGetItem calls of 100 keys (PynamoDB retries what is left)."""
        ids = sorted(set(inquiry_ids))
        return {item.inquiry_id: inquiry_from(item) for item in m.InquiryModel.batch_get(ids)}

    def open_due(self, agency_id: str, now: datetime) -> Iterator[Inquiry]:
        key = agency_status(agency_id, InquiryStatus.OPEN.value)
        # Strictly before now: at exactly due_at the inquiry is still on time (domain.inquiry.past_due).
        for item in m.InquiryModel.by_agency_status.query(key, m.InquiryModel.due_at < now):
            yield inquiry_from(item)

    def of_staff(self, agency_id: str, staff_id: str, status: str, limit: int) -> list[Inquiry]:
        items = m.InquiryModel.by_staff_status.query(staff_status(agency_id, staff_id, status), limit=limit)
        return [inquiry_from(i) for i in items]

    def of_agency(self, agency_id: str, status: str, limit: int) -> list[Inquiry]:
        items = m.InquiryModel.by_agency_status.query(agency_status(agency_id, status), limit=limit)
        return [inquiry_from(i) for i in items]

    def of_client(self, client_id: str) -> list[Inquiry]:
        return [inquiry_from(i) for i in m.InquiryModel.by_client.query(client_id)]

    def opened(self, agency_id: str, start: datetime, end: datetime) -> list[Inquiry]:
        """Inquiries opened in ``[start, end)`` (the ``by_agency_opened`` index)."""
        items = m.InquiryModel.by_agency_opened.query(
            agency_id, m.InquiryModel.opened_at.between(start, end - _ONE_MICROSECOND))
        return [inquiry_from(i) for i in items]

    # -- writes (queued on the unit of work) ------------------------------------------------------

    def add(self, inquiry: Inquiry) -> None:
        self._uow.save(inquiry_item(inquiry), condition=m.InquiryModel.inquiry_id.does_not_exist())

    def answer(self, inquiry: Inquiry, answer: Answer) -> None:
        """Record what one staff message did: its first response, its answer, or both.

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
            actions += _status_actions(inquiry, InquiryStatus.ANSWERED)
            actions += [
                m.InquiryModel.answered_at.set(answer.answered_at),
                m.InquiryModel.answered_by.set(answer.answered_by),
                m.InquiryModel.answered_late.set(answer.late),
                m.InquiryModel.answer_message_id.set(answer.message_id)
                if answer.message_id else m.InquiryModel.answer_message_id.remove(),
            ]
        self._uow.update(_proxy(inquiry), actions=actions, condition=m.InquiryModel.status.is_in(*AWAITING))

    def reopen(self, inquiry: Inquiry, reopening: Reopening) -> None:
        """Take back what a failed staff message counted for (``domain.outbound.reopen_after_failure``)."""
        actions: list[Any] = _status_actions(inquiry, reopening.status)
        actions += [
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
        else:
            actions.append(m.InquiryModel.answered_late.set(reopening.answered_late))
        self._uow.update(_proxy(inquiry), actions=actions, condition=m.InquiryModel.inquiry_id.exists())

    def breach(self, inquiry: Inquiry, now: datetime) -> None:
        """open -> breached, exactly once (conditioned on ``open``)."""
        self._uow.update(_proxy(inquiry), actions=[*_status_actions(inquiry, InquiryStatus.BREACHED),
                                                   m.InquiryModel.breached_at.set(now)],
                         condition=m.InquiryModel.status == InquiryStatus.OPEN.value)

    def end_opted_out(self, inquiry: Inquiry, at: datetime) -> None:
        """open or breached -> opted_out: the client opted out while waiting (a breach already
        recorded stays recorded). Conditioned on the version read, so an answer racing it wins or loses whole."""
        self._uow.update(_proxy(inquiry), actions=[*_status_actions(inquiry, InquiryStatus.OPTED_OUT),
                                                   m.InquiryModel.ended_at.set(at)],
                         condition=m.InquiryModel.status.is_in(*AWAITING))

    def move(self, inquiry: Inquiry, to_staff: str) -> None:
        """The open clock moves with its client to another worker."""
        self._uow.update(_proxy(inquiry), actions=[
            m.InquiryModel.staff_id.set(to_staff),
            m.InquiryModel.staff_status.set(staff_status(inquiry.agency_id, to_staff, inquiry.status.value)),
        ], condition=m.InquiryModel.status == inquiry.status.value)

    def mark_crisis(self, inquiry: Inquiry, crisis: bool = True) -> None:
        """The inquiry is a crisis (SPEC §5.9), or no longer one (a worker's mark taken back)."""
        self._uow.update(_proxy(inquiry), actions=[m.InquiryModel.crisis.set(crisis)])
