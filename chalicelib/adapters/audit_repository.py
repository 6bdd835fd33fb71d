"""The audit table: the only code that maps audit items to ``AuditEvent``/``AuditRecord`` and back.

Every read is a keyed ``Query`` (the agency's partition, ``by_staff`` or ``by_client``) between
two instants of the sort key, never a ``Scan``. Events are appended, never changed, except that
erasure removes free text staff wrote about a client (SPEC §5.7).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist

from ..domain.audit import AuditEvent
from . import models as m
from .keys import agency_staff, instant, sort_key, staff_of
from .writes import WriteQueue

if TYPE_CHECKING:
    from ..domain.reporting import AuditRecord

# Audit events that carry what a person wrote about the client, and the keys holding it. A
# supervisor's review of an override or a breach keeps its event id and kind (that it was reviewed
# is counted) and loses its note.
FREE_TEXT_EVENTS = frozenset({"consent.given", "consent.withdrawn", "client.warned", "client.status_changed",
                              "boundary.override", "review.recorded", "crisis.marked", "crisis.unmarked"})
FREE_TEXT_KEYS = frozenset({"reason", "note", "circle_of_care"})


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


def audit_record(item: m.AuditModel) -> AuditRecord:
    from ..domain.reporting import AuditRecord  # the read side only: the inbound path never loads it

    return AuditRecord(
        event_id=item.event_id,
        type=item.type,
        at=item.at,
        actor=item.actor,
        staff_id=staff_of(item.agency_staff),
        client_id=item.client_id,
        details=_details(item),
    )


def _details(item: m.AuditModel) -> dict[str, Any]:
    return dict(item.details.as_dict() if hasattr(item.details, "as_dict") else item.details or {})


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


def _between(start: datetime, end: datetime) -> Any:
    # The bare instant sorts before every key at that instant: between(start, end) is [start, end).
    return m.AuditModel.sk.between(instant(start), instant(end))


def _types(types: Iterable[str] | None) -> Any:
    """Filtered by DynamoDB (each page is still read, and paid for, in full)."""
    return m.AuditModel.type.is_in(*sorted(set(types))) if types else None


class AuditRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- writes ---------------------------------------------------------------------------------

    def add(self, events: Iterable[AuditEvent]) -> None:
        """Queue events with the rest of the unit of work (an event id is written once)."""
        for event in events:
            self._uow.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())

    def append(self, events: Iterable[AuditEvent]) -> None:
        """Write events now, each on its own (nothing else changes with them)."""
        for event in events:
            audit_item(event).save(condition=m.AuditModel.sk.does_not_exist())

    def erase_free_text(self, client_id: str) -> None:
        """Free text staff wrote about the client goes from its audit events (SPEC §5.7)."""
        for key in m.AuditModel.by_client.query(client_id):
            item = m.AuditModel.get(key.agency_id, key.sk)
            details = _details(item)
            if item.type not in FREE_TEXT_EVENTS or not FREE_TEXT_KEYS & details.keys():
                continue
            kept = {k: v for k, v in details.items() if k not in FREE_TEXT_KEYS}
            item.update(actions=[m.AuditModel.details.set(kept)])

    # -- reads ----------------------------------------------------------------------------------

    def get(self, agency_id: str, at: datetime, event_id: str) -> AuditRecord | None:
        """The agency's event ``event_id`` written at ``at`` (one GetItem)."""
        try:
            return audit_record(m.AuditModel.get(agency_id, sort_key(at, event_id)))
        except DoesNotExist:
            return None

    def first_at(self, agency_id: str) -> datetime | None:
        for item in m.AuditModel.query(agency_id, limit=1):
            return item.at
        return None

    def between(self, agency_id: str, start: datetime, end: datetime, staff_id: str | None = None,
                types: Iterable[str] | None = None) -> Iterator[AuditRecord]:
        """Events with ``start <= at < end``, oldest first (the agency's, or one worker's)."""
        if staff_id:
            items = m.AuditModel.by_staff.query(agency_staff(agency_id, staff_id), _between(start, end),
                                                filter_condition=_types(types))
        else:
            items = m.AuditModel.query(agency_id, _between(start, end), filter_condition=_types(types))
        for item in items:
            yield audit_record(item)

    def of_client(self, client_id: str, before: datetime | None = None) -> list[AuditRecord]:
        condition = m.AuditModel.sk < instant(before) if before is not None else None
        return [audit_record(i) for i in m.AuditModel.by_client.query(client_id, condition)]

    def reasons(self, agency_id: str, keys: Iterable[tuple[datetime, str | None]]) -> dict[str, str | None]:
        """The ``reason`` of audit events by (time, event id): BatchGetItem, 100 keys a call."""
        wanted = [(agency_id, sort_key(at, event_id)) for at, event_id in keys if event_id]
        return {item.event_id: _details(item).get("reason") for item in m.AuditModel.batch_get(wanted)}

    def page(
        self,
        agency_id: str,
        start: datetime,
        end: datetime,
        *,
        staff_id: str | None = None,
        client_id: str | None = None,
        after: str | None = None,
        limit: int = 1000,
        types: frozenset[str] | None = None,
        holding: bool | None = None,
    ) -> tuple[list[AuditRecord], str | None]:
        """Up to ``limit`` events with ``start <= at < end`` after the cursor ``after``, oldest first.

        Returns the events and the cursor of the next page (None on the last page). One keyed
        query: by client (``by_client``, kept to this agency), else by worker (``by_staff``),
        else the agency's partition.
        """
        low = instant(start)
        if after is not None and after > low:
            low = after + "\u0000"  # strictly after the cursor's own key
        high = instant(end)
        if low > high:
            return [], None
        if client_id:
            # The index is keyed by client only: the filter keeps another agency's events out of the
            # page itself, so neither they nor the cursor (their time and event id) ever leave.
            condition = m.AuditModel.agency_id == agency_id
            if types:
                condition = condition & _types(types)
            query = m.AuditModel.by_client.query(client_id, m.AuditModel.sk.between(low, high), limit=limit + 1,
                                                 filter_condition=condition)
        elif staff_id:
            query = m.AuditModel.by_staff.query(agency_staff(agency_id, staff_id), m.AuditModel.sk.between(low, high),
                                                limit=limit + 1, filter_condition=_types(types))
        else:
            query = m.AuditModel.query(agency_id, m.AuditModel.sk.between(low, high), limit=limit + 1,
                                       filter_condition=_types(types))
        items = list(query)
        more = len(items) > limit
        items = items[:limit]
        events = [
            audit_record(i)
            for i in items
            if i.agency_id == agency_id and (not staff_id or i.agency_staff == agency_staff(agency_id, staff_id))
        ]
        if holding is not None:  # a detail, filtered here: the page may be shorter than ``limit``
            from ..domain.dashboard import matches_filters

            events = [e for e in events if matches_filters(e, None, holding)]
        return events, (items[-1].sk if more else None)
