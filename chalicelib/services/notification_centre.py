"""The notification centre (SPEC §4.4): what each member of staff has been told, and what they read.

``GET /notifications`` lists the caller's own notifications, newest first, with how many are
unread and how many of those wait for a review (breaches and overrides: the supervisor's
``Reviews`` badge), and the names the console shows instead of ids (the clients', from one
BatchGetItem; the staff's, from the cached staff directory). ``PUT /notifications/{id}``
``{"read": bool}`` marks one, ``POST /notifications/read`` marks them all. A notification is only
ever its recipient's: another person's id, or another agency's, is simply not found. Every read is
keyed (the person's partition, the sparse ``unread`` index); nothing scans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..domain import validation as v
from ..domain.errors import InvalidInput, NotFound
from ..domain.model import Principal
from ..domain.notifications import REVIEW_TYPES, Notification

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class ListNotifications:
    unread_only: bool = False
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Mapping[str, str] | None) -> ListNotifications:
        params = params or {}
        unread = (params.get("unread") or "").strip().lower()
        raw = params.get("limit")
        limit = DEFAULT_LIMIT
        if raw is not None:
            if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
                raise InvalidInput("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
            limit = int(raw)
        return cls(unread_only=unread in ("true", "1", "yes"), limit=limit)


@dataclass(frozen=True)
class MarkNotification:
    read: bool

    @classmethod
    def parse(cls, payload: Any) -> MarkNotification:
        body = v.require_object(payload if payload is not None else {"read": True})
        read = body.get("read", True)
        if not isinstance(read, bool):
            raise InvalidInput("read", "must be true or false")
        return cls(read=read)


@dataclass(frozen=True)
class NotificationPage:
    notifications: list[Notification]
    unread: int
    unread_reviews: int
    client_names: dict[str, str | None] = field(default_factory=dict)
    staff_names: Mapping[str, str] = field(default_factory=dict)


class NotificationCentre:
    def __init__(self, uow: Callable[[], UnitOfWork],
                 staff_names: Callable[[str], Mapping[str, str]] | None = None) -> None:
        self._uow = uow
        self._staff_names = staff_names or (lambda agency_id: {})

    def list(self, principal: Principal, query: ListNotifications) -> NotificationPage:
        repo = self._uow().notifications
        if query.unread_only:
            found = repo.unread_of(principal.agency_id, principal.staff_id, query.limit)
        else:
            found = repo.of(principal.agency_id, principal.staff_id, query.limit)
        unread = repo.unread_count(principal.agency_id, principal.staff_id)
        reviews = repo.unread_count(principal.agency_id, principal.staff_id, REVIEW_TYPES) \
            if principal.sees_whole_agency() and unread else 0
        ids = {n.client_id for n in found if n.client_id}
        clients = self._uow().clients.many(ids) if ids else {}
        names = {cid: (c.name or None) if c.agency_id == principal.agency_id and c.erased_at is None else None
                 for cid, c in clients.items()}
        return NotificationPage(found, unread, reviews, names, self._staff_names(principal.agency_id))

    def mark(self, principal: Principal, notification_id: str, command: MarkNotification) -> Notification:
        """Mark one of the caller's own notifications read (or unread again)."""
        note = None
        if isinstance(notification_id, str) and 1 <= len(notification_id) <= 200:
            note = self._uow().notifications.mark(principal.agency_id, principal.staff_id, notification_id,
                                                  command.read)
        if note is None:
            raise NotFound("no such notification")
        return note

    def mark_all_read(self, principal: Principal) -> int:
        return self._uow().notifications.mark_all_read(principal.agency_id, principal.staff_id)


def notification_view(note: Notification, zone: Any, client_names: Mapping[str, str | None] | None = None,
                      staff_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    from ..views import iso

    view: dict[str, Any] = {
        "id": note.notification_id,
        "type": note.type,
        "at": iso(note.at, zone),
        "client_id": note.client_id,
        "inquiry_id": note.inquiry_id,
        "message": note.message,
        "read": note.read,
        "to_review": note.to_review,  # links to the review (GET /reviews), not to the file
        "staff_id": note.staff_id,
    }
    if client_names is not None:
        view["client_name"] = client_names.get(note.client_id) if note.client_id else None
    if staff_names is not None:
        view["staff_name"] = staff_names.get(note.staff_id, note.staff_id) if note.staff_id else None
    return view


def page_view(page: NotificationPage, zone: Any) -> dict[str, Any]:
    return {
        "notifications": [notification_view(n, zone, page.client_names, page.staff_names)
                          for n in page.notifications],
        "unread": page.unread,
        "unread_reviews": page.unread_reviews,
    }
