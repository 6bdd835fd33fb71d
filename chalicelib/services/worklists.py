"""What waits for a member of staff (issue 4): ``GET /inquiries`` and ``GET /notifications``.

A worker sees the inquiries of their own clients and of the colleagues they cover today; a
supervisor or an administrator the agency's. Notifications are one person's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..domain import validation as v
from ..domain.errors import NotFound
from ..domain.inquiry import Inquiry, InquiryStatus
from ..domain.model import Principal
from ..domain.notifications import Notification

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

    # -- GET /inquiries, GET /notifications -------------------------------------------------------

    def inquiries(self, principal: Principal, status: str) -> list[Inquiry]:
        status = v.one_of(status, "status", INQUIRY_STATUSES)
        if principal.sees_whole_agency():
            found = self._uow().inquiries.of_agency(principal.agency_id, status, LIST_LIMIT)
        else:
            found = []
            for staff_id in sorted({principal.staff_id, *self._covering_for(principal)}):
                found.extend(self._uow().inquiries.of_staff(principal.agency_id, staff_id, status, LIST_LIMIT))
        return sorted(found, key=lambda i: (i.due_at, i.inquiry_id))

    def notifications(self, principal: Principal, unread_only: bool = False) -> list[Notification]:
        found = self._uow().notifications.of(principal.agency_id, principal.staff_id, LIST_LIMIT)
        return [n for n in found if not n.read] if unread_only else found

    def mark_read(self, principal: Principal, notification_id: str) -> Notification:
        """Mark one of the caller's own notifications read (another person's is simply not found)."""
        if not v.is_identifier(notification_id):
            raise NotFound("no such notification")
        note = self._uow().notifications.mark_read(principal.agency_id, principal.staff_id, notification_id)
        if note is None:
            raise NotFound("no such notification")
        return note


def notification_view(note: Notification, zone: Any) -> dict[str, Any]:
    from ..views import iso

    return {
        "id": note.notification_id,
        "type": note.type,
        "at": iso(note.at, zone),
        "client_id": note.client_id,
        "inquiry_id": note.inquiry_id,
        "message": note.message,
        "read": note.read,
    }
