"""The notifications table: the only code that maps notification items to ``Notification``.

A person's notifications are one partition (``agency#staff``), newest first by the sort key
``<instant>#<id>``. The id the API shows carries that instant (``20260302T170000000000Z.<id>``),
so marking one read is one keyed write, never a search. While a notification is unread it also
carries ``unread_for`` and ``unread_key`` (``<type>#<sk>``), the keys of the sparse ``unread``
index: counting what is unread (all of it, or only what waits for a review) and marking all read
read those items alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.audit import new_id
from ..domain.notifications import Notification
from . import models as m
from .keys import agency_staff, sort_key
from .writes import WriteQueue, condition_failed

_SK_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"
_ID_INSTANT = "%Y%m%dT%H%M%S%fZ"
_PUBLIC_ID = re.compile(r"(\d{8}T\d{12}Z)\.([A-Za-z0-9_.@-]{1,160})", re.ASCII)


def public_id(sk: str) -> str:
    """The id the API shows for the item at ``sk``: its instant, compact, then its own id."""
    instant, _, item_id = sk.partition("#")
    try:
        at = datetime.strptime(instant, _SK_INSTANT)
    except ValueError:
        return item_id
    return f"{at.strftime(_ID_INSTANT)}.{item_id}"


def sk_of(notification_id: str) -> str | None:
    """The sort key an API id names, or None when it is not one of ours."""
    found = _PUBLIC_ID.fullmatch(notification_id) if isinstance(notification_id, str) else None
    if found is None:
        return None
    try:
        at = datetime.strptime(found.group(1), _ID_INSTANT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return sort_key(at, found.group(2))


def notification_item(n: Notification, agency_id: str) -> m.NotificationModel:
    recipient = agency_staff(agency_id, n.recipient_id)
    sk = sort_key(n.at, n.notification_id or new_id("nt"))
    return m.NotificationModel(
        recipient=recipient,
        sk=sk,
        type=n.type,
        at=n.at,
        client_id=n.client_id,
        inquiry_id=n.inquiry_id,
        message=n.message,
        staff_id=n.staff_id,
        read=n.read,
        unread_for=None if n.read else recipient,
        unread_key=None if n.read else f"{n.type}#{sk}",
    )


def notification_from(item: m.NotificationModel) -> Notification:
    return Notification(
        recipient_id=item.recipient.split("#", 1)[-1],
        type=item.type,
        at=item.at,
        message=item.message,
        client_id=item.client_id,
        inquiry_id=item.inquiry_id,
        notification_id=public_id(item.sk),
        read=bool(item.read),
        staff_id=item.staff_id,
    )


def _read_actions(item: m.NotificationModel, read: bool) -> list[object]:
    if read:
        return [m.NotificationModel.read.set(True), m.NotificationModel.unread_for.remove(),
                m.NotificationModel.unread_key.remove()]
    return [m.NotificationModel.read.set(False), m.NotificationModel.unread_for.set(item.recipient),
            m.NotificationModel.unread_key.set(f"{item.type}#{item.sk}")]


class NotificationRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- writes -----------------------------------------------------------------------------------

    def add(self, agency_id: str, notifications: Iterable[Notification]) -> None:
        """Queue notifications with the rest of the unit of work."""
        for note in notifications:
            self._uow.save(notification_item(note, agency_id), condition=m.NotificationModel.sk.does_not_exist())

    def send(self, agency_id: str, notifications: Iterable[Notification]) -> None:
        """Write notifications now, each on its own."""
        for note in notifications:
            notification_item(note, agency_id).save(condition=m.NotificationModel.sk.does_not_exist())

    def mark(self, agency_id: str, staff_id: str, notification_id: str, read: bool = True) -> Notification | None:
        """Mark one of the person's notifications read (or unread again); None when they have no such one.

        The id names the item's key: one GetItem and one conditional UpdateItem. An id of the older
        form (no instant) is looked for in the person's own partition.
        """
        recipient = agency_staff(agency_id, staff_id)
        sk = sk_of(notification_id) or self._older_sk(recipient, notification_id)
        if sk is None:
            return None
        try:
            item = m.NotificationModel.get(recipient, sk, consistent_read=True)
        except DoesNotExist:
            return None
        if bool(item.read) is not read:
            try:
                item.update(actions=_read_actions(item, read), condition=m.NotificationModel.sk.exists())
            except UpdateError as err:
                if condition_failed(err):
                    return None
                raise
            self._uow.wrote_at_once("update", [item])  # the person's other open consoles recount
        return notification_from(item)

    def mark_all_read(self, agency_id: str, staff_id: str) -> int:
        """Mark every unread notification of the person read (the ``unread`` index names them); how many."""
        recipient = agency_staff(agency_id, staff_id)
        done = [item for key in m.NotificationModel.unread.query(recipient)
                if (item := self._set_read(recipient, key.sk)) is not None]
        self._uow.wrote_at_once("update", done)
        return len(done)

    def settle(self, agency_id: str, recipients: Iterable[str], at: datetime, notification_id: str) -> None:
        """Mark read, for each of ``recipients``, the notification ``notification_id`` written at ``at``
        (a review done settles the breach or override it was about); one that is missing is skipped."""
        sk = sort_key(at, notification_id)
        settled = [item for staff_id in recipients
                   if (item := self._set_read(agency_staff(agency_id, staff_id), sk)) is not None]
        self._uow.wrote_at_once("update", settled)

    @staticmethod
    def _set_read(recipient: str, sk: str) -> Any:
        """The item marked read; None when there is no such notification."""
        item = m.NotificationModel(recipient=recipient, sk=sk)
        try:
            item.update(actions=[m.NotificationModel.read.set(True), m.NotificationModel.unread_for.remove(),
                                 m.NotificationModel.unread_key.remove()],
                        condition=m.NotificationModel.sk.exists())
        except UpdateError as err:
            if condition_failed(err):
                return None
            raise
        return item

    # -- reads ------------------------------------------------------------------------------------

    def of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        """The person's notifications, newest first (one Query)."""
        items = m.NotificationModel.query(agency_staff(agency_id, staff_id), scan_index_forward=False, limit=limit)
        return [notification_from(i) for i in items]

    def unread_of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        """The person's unread notifications, newest first: their keys from the ``unread`` index, then
        one BatchGetItem."""
        recipient = agency_staff(agency_id, staff_id)
        sks = sorted((key.sk for key in m.NotificationModel.unread.query(recipient)), reverse=True)[:limit]
        found = {i.sk: i for i in m.NotificationModel.batch_get([(recipient, sk) for sk in sks])}
        return [notification_from(found[sk]) for sk in sks if sk in found]

    def unread_count(self, agency_id: str, staff_id: str, types: Iterable[str] | None = None) -> int:
        """How many of the person's notifications are unread (of ``types`` only, when given): a COUNT
        Query of the sparse ``unread`` index per type, never a scan."""
        recipient = agency_staff(agency_id, staff_id)
        if types is None:
            return m.NotificationModel.unread.count(recipient)
        return sum(m.NotificationModel.unread.count(recipient, m.NotificationModel.unread_key.startswith(f"{kind}#"))
                   for kind in sorted(set(types)))

    @staticmethod
    def _older_sk(recipient: str, notification_id: str) -> str | None:
        """The sort key of an id written before ids carried their instant: the person's own
        partition, newest first (ids are checked before, so nothing odd reaches the filter)."""
        if not isinstance(notification_id, str) or not re.fullmatch(r"[A-Za-z0-9_.@-]{1,160}", notification_id):
            return None
        suffix = "#" + notification_id
        for item in m.NotificationModel.query(recipient, scan_index_forward=False,
                                              attributes_to_get=["recipient", "sk"]):
            if item.sk.endswith(suffix):
                return item.sk
        return None
