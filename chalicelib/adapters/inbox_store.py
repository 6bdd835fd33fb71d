"""Reads for the inbox: the sparse ``waiting`` index of the clients table (models.py)."""

from __future__ import annotations

from collections.abc import Iterator

from ..domain.inbox import Waiting
from . import models as m
from .store import agency_staff


def waiting_of(agency_id: str, staff_id: str) -> Iterator[Waiting]:
    """One case manager's files with an open inquiry, soonest due first: one Query (paged by 1 MB)."""
    for item in m.ClientModel.waiting.query(agency_staff(agency_id, staff_id), scan_index_forward=True):
        if item.erased_at is not None:
            continue
        yield Waiting(
            client_id=item.client_id,
            case_manager_id=item.case_manager_id,
            name=item.name or "",
            channel=item.channel,
            language=item.language,
            due_at=item.open_inquiry_due_at,
            opened_at=item.open_inquiry_opened_at,
            last_inbound_at=item.last_inbound_at,
            preview=item.last_inbound_preview,
            opted_out=bool(item.opted_out),
            status=item.status or "active",
        )
