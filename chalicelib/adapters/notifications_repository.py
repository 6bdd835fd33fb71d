"""The notifications table: the only code that maps notification items to ``Notification``."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import UpdateError

from ..domain.audit import new_id
from ..domain.notifications import Notification
from . import models as m
from .keys import agency_staff, sort_key
from .writes import WriteQueue


def notification_item(n: Notification, agency_id: str) -> m.NotificationModel:
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


class NotificationRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def add(self, agency_id: str, notifications: Iterable[Notification]) -> None:
        """Queue notifications with the rest of the unit of work."""
        for note in notifications:
            self._uow.save(notification_item(note, agency_id), condition=m.NotificationModel.sk.does_not_exist())

    def send(self, agency_id: str, notifications: Iterable[Notification]) -> None:
        """Write notifications now, each on its own."""
        for note in notifications:
            notification_item(note, agency_id).save(condition=m.NotificationModel.sk.does_not_exist())

    def of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        items = m.NotificationModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False, limit=limit)
        return [notification_from(i) for i in items]

    def mark_read(self, agency_id: str, staff_id: str, notification_id: str) -> Notification | None:
        """Mark one of the caller's notifications read; None when the caller has no such one.

        A keyed Query of the caller's own notifications (newest first) finds the sort key, which
        starts with the instant; the update is conditioned on the item still existing.
        """
        suffix = "#" + notification_id
        for item in m.NotificationModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False):
            if not item.sk.endswith(suffix):
                continue
            try:
                item.update(actions=[m.NotificationModel.read.set(True)], condition=m.NotificationModel.sk.exists())
            except UpdateError:
                return None
            return notification_from(item)
        return None
