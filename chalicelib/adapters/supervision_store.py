"""Keyed reads and the one write behind the supervisor's and administrator's console pages.

Every read is a ``Query``, a ``GetItem`` or a ``BatchGetItem`` (100 keys a round trip), never a
``Scan``:

| what                                        | table / index                | key                                  |
|---------------------------------------------|------------------------------|--------------------------------------|
| inquiries opened in a period (GET /inquiries?from=) | inquiries / by_agency_opened | agency_id, opened_at between  |
| overrides and breaches to review            | audit                        | agency_id, sk between; filter on type |
| one audit event (to review it)              | audit                        | GetItem agency_id, sk                |
| whether events were reviewed                | claims                       | BatchGet ``review#<agency>#<event>`` |
| the message an override sent                | messages                     | BatchGet client_id, sk               |
| the files and inquiries behind them         | clients, inquiries           | BatchGet client_id / inquiry_id      |
| the agency's staff (admin pages)            | staff                        | Query agency_id                      |
| each worker's numbers                       | numbers / by_staff           | Query agency#staff (one per worker)  |
| the clients a re-assignment would move      | clients / by_case_manager    | Query agency#staff                   |

A review is a claim (written only if absent) and a ``review.recorded`` audit event, in one
transaction: two supervisors pressing the button at once record one review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from ..domain.absence import Absence
from ..domain.audit import AuditEvent
from ..domain.dashboard import review_key
from ..domain.errors import Conflict
from ..domain.inquiry import Inquiry
from ..domain.model import Client, Staff
from ..domain.reporting import AuditRecord, InquiryFact
from . import models as m
from .reports_store import _bound, _inquiry_fact, audit_record
from .store import DynamoStore, agency_staff, audit_item, client_from, inquiry_from, number_from, sort_key

BATCH = 100  # BatchGetItem's limit


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(keys), BATCH):
        yield keys[i : i + BATCH]


class SupervisionStore:
    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    # -- inquiries ------------------------------------------------------------------------------

    def inquiries_opened(self, agency_id: str, start: datetime, end: datetime) -> list[tuple[Inquiry, InquiryFact]]:
        """Inquiries opened in ``[start, end)``, each with the fact the compliance report counts."""
        from datetime import timedelta

        items = m.InquiryModel.by_agency_opened.query(
            agency_id, m.InquiryModel.opened_at.between(start, end - timedelta(microseconds=1))
        )
        return [(inquiry_from(i), _inquiry_fact(i, None)) for i in items]

    def inquiries(self, ids: Iterable[str]) -> dict[str, Inquiry]:
        keys = sorted(set(ids))
        found: dict[str, Inquiry] = {}
        for chunk in _chunks(keys):
            for item in m.InquiryModel.batch_get(chunk):
                found[item.inquiry_id] = inquiry_from(item)
        return found

    # -- audit ------------------------------------------------------------------------------------

    def audit_of_types(self, agency_id: str, start: datetime, end: datetime, types: Iterable[str]) -> list[AuditRecord]:
        """Events of the given types with ``start <= at < end``, oldest first (one paged Query)."""
        items = m.AuditModel.query(
            agency_id,
            m.AuditModel.sk.between(_bound(start), _bound(end)),
            filter_condition=m.AuditModel.type.is_in(*sorted(set(types))),
        )
        return [audit_record(i) for i in items]

    def audit_event(self, agency_id: str, sk: str) -> AuditRecord | None:
        try:
            return audit_record(m.AuditModel.get(agency_id, sk))
        except DoesNotExist:
            return None

    def reviews_of(self, agency_id: str, event_ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
        """Event id -> (reviewed at, reviewer) for those of ``event_ids`` already reviewed."""
        prefix = f"review#{agency_id}#"
        keys = sorted({review_key(agency_id, e) for e in event_ids})
        found: dict[str, tuple[datetime, str]] = {}
        for chunk in _chunks(keys):
            for item in m.ClaimModel.batch_get(chunk):
                found[item.claim_key.removeprefix(prefix)] = (item.created_at, item.ref or "")
        return found

    def record_review(self, agency_id: str, event_id: str, reviewer: str, at: datetime, event: AuditEvent) -> None:
        """The review's marker and its audit event, once; ``Conflict`` if it was already reviewed."""
        claim = m.ClaimModel(claim_key=review_key(agency_id, event_id), created_at=at, ref=reviewer)
        try:
            with self._store.transaction() as tx:
                tx.save(claim, condition=m.ClaimModel.claim_key.does_not_exist())
                tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            if any(self._store._cancelled_by_condition(err)):
                raise Conflict("this was already reviewed", code="already_reviewed") from None
            raise

    # -- files and messages -----------------------------------------------------------------------

    def clients(self, ids: Iterable[str]) -> dict[str, Client]:
        keys = sorted(set(ids))
        found: dict[str, Client] = {}
        for chunk in _chunks(keys):
            for item in m.ClientModel.batch_get(chunk):
                found[item.client_id] = client_from(item)
        return found

    def message_bodies(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """(client_id, sk) -> the message's body (None once erased)."""
        wanted = sorted(set(keys))
        found: dict[tuple[str, str], str | None] = {}
        for chunk in _chunks(wanted):
            for item in m.MessageModel.batch_get(list(chunk)):
                found[(item.client_id, item.sk)] = item.body
        return found

    def message_sk(self, client_id: str, message_id: str, at: datetime) -> str:
        return sort_key(at, message_id)

    def clients_of(self, agency_id: str, staff_id: str) -> list[Client]:
        return [client_from(i) for i in m.ClientModel.by_case_manager.query(agency_staff(agency_id, staff_id))]

    # -- staff and numbers ------------------------------------------------------------------------

    def staff(self, agency_id: str) -> list[tuple[Staff, bool, list[Absence]]]:
        """Each staff member, whether active, and their absences (one Query)."""
        return [(staff, staff.active, absences) for staff, absences in self._store.staff.with_absences(agency_id)]

    def numbers_of(self, agency_id: str, staff_ids: Iterable[str]) -> list[Any]:
        """The work numbers of these staff members (one Query each)."""
        found = []
        for staff_id in staff_ids:
            found.extend(number_from(i) for i in m.NumberModel.by_staff.query(agency_staff(agency_id, staff_id)))
        return found

    def get_number(self, number: str) -> Any:
        return self._store.get_number(number)

    def get_staff(self, agency_id: str, staff_id: str) -> Staff | None:
        return self._store.staff.get(agency_id, staff_id)
