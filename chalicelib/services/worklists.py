"""What waits for a member of staff (issue 4): ``GET /inquiries``.

A worker sees the inquiries of their own clients and of the colleagues they cover today; a
supervisor or an administrator the agency's. (Notifications, one person's own, are
``notification_centre.py``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain import validation as v
from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.model import Principal

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

LIST_LIMIT = 500
INQUIRY_STATUSES = tuple(s.value for s in InquiryStatus)


class Worklists:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        covering_for: Callable[[Principal], frozenset[str]] | None = None,
    ) -> None:
        self._uow = uow
        self._covering_for = covering_for or (lambda principal: frozenset())

    # -- GET /inquiries ---------------------------------------------------------------------------

    def inquiries(self, principal: Principal, status: str) -> list[Inquiry]:
        status = v.one_of(status, "status", INQUIRY_STATUSES)
        if principal.sees_whole_agency():
            found = self._uow().inquiries.of_agency(principal.agency_id, status, LIST_LIMIT)
        else:
            found = []
            for staff_id in sorted({principal.staff_id, *self._covering_for(principal)}):
                found.extend(self._uow().inquiries.of_staff(principal.agency_id, staff_id, status, LIST_LIMIT))
        return sorted(found, key=lambda i: (i.due_at, i.inquiry_id))
