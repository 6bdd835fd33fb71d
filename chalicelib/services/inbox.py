"""The inbox use case (issue 14): every client of the caller waiting for an answer.

A worker sees their own files and those of colleagues they cover today; a supervisor or an
administrator sees the agency's. The cost is one Query of the clients table's sparse ``waiting``
index per case manager (the caller, plus each colleague covered), and the cached staff
directory: a constant number of DynamoDB round trips however large the caseload, never one
request per client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ..domain.clock import utcnow
from ..domain.errors import Forbidden
from ..domain.inbox import InboxItem, Waiting, inbox
from ..domain.model import Principal


class InboxService:
    def __init__(self, waiting_of: Callable[[str, str], Iterable[Waiting]], absences: Any, policies: Any) -> None:
        self._waiting_of = waiting_of
        self._absences = absences
        self._policies = policies

    def case_managers(self, principal: Principal) -> list[str]:
        names = self._absences.directory(principal.agency_id)[0]
        if principal.sees_whole_agency():
            return sorted(names)
        return [principal.staff_id, *sorted(self._absences.covering_for(principal))]

    def inbox(self, principal: Principal, now: datetime | None = None) -> tuple[list[InboxItem], dict[str, str]]:
        """(items soonest due first, staff names by id) at ``now``."""
        now = now or utcnow()
        names = self._absences.directory(principal.agency_id)[0]
        if principal.staff_id not in names:
            raise Forbidden("no staff record for this sign-in in this agency; ask your administrator")
        lists = [list(self._waiting_of(principal.agency_id, staff_id)) for staff_id in self.case_managers(principal)]
        return inbox(lists, now), dict(names)


def inbox_view(items: list[InboxItem], names: dict[str, str], principal: Principal, now: datetime,
               zone: Any) -> dict[str, Any]:
    from ..views import iso

    return {
        "now": iso(now, zone),
        "items": [
            {
                "client_id": i.waiting.client_id,
                "name": i.waiting.name,
                "channel": i.waiting.channel,
                "language": i.waiting.language,
                "case_manager_id": i.waiting.case_manager_id,
                "case_manager_name": names.get(i.waiting.case_manager_id, i.waiting.case_manager_id),
                "covering": i.waiting.case_manager_id != principal.staff_id and not principal.sees_whole_agency(),
                "last_message": i.waiting.preview,
                "last_message_at": iso(i.waiting.last_inbound_at, zone),
                "waiting_since": iso(i.waiting.opened_at or i.waiting.last_inbound_at, zone),
                "due_at": iso(i.waiting.due_at, zone),
                "waited_seconds": i.waited_seconds,
                "seconds_left": i.seconds_left,
                "overdue": i.overdue,
                "opted_out": i.waiting.opted_out,
                "status": i.waiting.status,
                "crisis": i.waiting.crisis_at is not None,  # listed first (SPEC §4.6, §5.9)
                "crisis_at": iso(i.waiting.crisis_at, zone),
            }
            for i in items
        ],
    }
