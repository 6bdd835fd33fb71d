"""The posts and post_deliveries tables: a post with its progress, one delivery row per recipient.

Every change of a delivery's status is a conditional write on its version, and the post's
``sent``/``failed``/``skipped`` counters move in the same unit of work, so ``GET /posts/{id}``
(one GetItem) is exact whatever retries or duplicate queue deliveries happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import UpdateError

from ..domain.messages import Message
from ..domain.posts import Delivery, DeliveryStatus, Post
from . import models as m
from .keys import message_key
from .writes import WriteQueue, condition_failed


def _post_item(post: Post) -> m.PostModel:
    return m.PostModel(
        post_id=post.post_id, agency_id=post.agency_id, author_id=post.author_id, scope=post.scope, body=post.body,
        languages=list(post.languages), created_at=post.created_at, send_at=post.send_at,
        recipients=post.recipients, sent=post.sent, failed=post.failed, skipped=post.skipped,
        due_agency=post.agency_id if post.due_at is not None else None, due_at=post.due_at,
    )


def _post_from(item: m.PostModel) -> Post:
    return Post(
        post_id=item.post_id, agency_id=item.agency_id, author_id=item.author_id, scope=item.scope, body=item.body,
        languages=tuple(item.languages or ()), created_at=item.created_at, send_at=item.send_at,
        recipients=int(item.recipients or 0), sent=int(item.sent or 0), failed=int(item.failed or 0),
        skipped=int(item.skipped or 0), due_at=item.due_at,
    )


def _delivery(item: m.PostDeliveryModel) -> Delivery:
    return Delivery(item.post_id, item.client_id, DeliveryStatus(item.status), int(item.attempts or 0),
                    item.retry_at, item.lease_until,
                    int(item.version) if item.version is not None else None)


def _proxy(d: Delivery) -> m.PostDeliveryModel:
    item = m.PostDeliveryModel(post_id=d.post_id, client_id=d.client_id)
    if d.version is not None:
        item.version = d.version  # else PynamoDB conditions on the version not existing yet
    return item


_COUNTERS = {DeliveryStatus.SENT: m.PostModel.sent, DeliveryStatus.FAILED: m.PostModel.failed,
             DeliveryStatus.SKIPPED: m.PostModel.skipped}


class PostRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- the post -------------------------------------------------------------------------------

    def add(self, post: Post, client_ids: Sequence[str]) -> None:
        """Delivery rows now (a batch write), the post with the rest of the unit of work.

        A crash between the two leaves rows no post points to: nothing reads them.
        """
        with m.PostDeliveryModel.batch_write() as batch:
            for client_id in client_ids:
                batch.save(m.PostDeliveryModel(post_id=post.post_id, client_id=client_id,
                                               status=DeliveryStatus.PENDING.value, attempts=0))
        self._uow.save(_post_item(post), condition=m.PostModel.post_id.does_not_exist())

    def get(self, post_id: str) -> Post | None:
        try:
            return _post_from(m.PostModel.get(post_id, consistent_read=True))
        except m.PostModel.DoesNotExist:
            return None

    def due(self, agency_id: str, now: datetime) -> list[str]:
        return [i.post_id for i in m.PostModel.posts_due.query(agency_id, m.PostModel.due_at <= now)]

    def set_due(self, post_id: str, agency_id: str, at: datetime | None) -> None:
        actions = ([m.PostModel.due_agency.remove(), m.PostModel.due_at.remove()] if at is None
                   else [m.PostModel.due_agency.set(agency_id), m.PostModel.due_at.set(at)])
        m.PostModel(post_id=post_id).update(actions=actions, condition=m.PostModel.post_id.exists())

    # -- deliveries -------------------------------------------------------------------------------

    def deliveries(self, post_id: str) -> list[Delivery]:
        return [_delivery(i) for i in m.PostDeliveryModel.query(post_id, consistent_read=True)]

    def delivery(self, post_id: str, client_id: str) -> Delivery | None:
        try:
            return _delivery(m.PostDeliveryModel.get(post_id, client_id, consistent_read=True))
        except m.PostDeliveryModel.DoesNotExist:
            return None

    def claim(self, d: Delivery, lease_until: datetime) -> Delivery | None:
        """Move a waiting copy to ``sending``; None if someone else moved it first."""
        try:
            _proxy(d).update(actions=[
                m.PostDeliveryModel.status.set(DeliveryStatus.SENDING.value),
                m.PostDeliveryModel.lease_until.set(lease_until),
                m.PostDeliveryModel.attempts.set(d.attempts + 1),
            ], condition=m.PostDeliveryModel.status.is_in(DeliveryStatus.PENDING.value, DeliveryStatus.QUEUED.value))
        except UpdateError as err:
            if condition_failed(err):
                return None
            raise
        return Delivery(d.post_id, d.client_id, DeliveryStatus.SENDING, d.attempts + 1, d.retry_at, lease_until,
                        (d.version or 0) + 1)

    def requeue(self, d: Delivery, retry_at: datetime, reason: str | None) -> None:
        try:
            _proxy(d).update(actions=[
                m.PostDeliveryModel.status.set(DeliveryStatus.QUEUED.value),
                m.PostDeliveryModel.retry_at.set(retry_at),
                m.PostDeliveryModel.reason.set(reason or "transient"),
            ], condition=m.PostDeliveryModel.status == DeliveryStatus.SENDING.value)
        except UpdateError as err:
            if not condition_failed(err):
                raise

    def finish(self, d: Delivery, status: DeliveryStatus, reason: str | None = None,
               message: Message | None = None) -> None:
        """Queue a final status, counted on the post (a second final status fails its condition);
        a delivered copy's row names the ``message`` it was filed as."""
        actions = [m.PostDeliveryModel.status.set(status.value)]
        if reason:
            actions.append(m.PostDeliveryModel.reason.set(reason))
        if message is not None:
            actions.append(m.PostDeliveryModel.message_sk.set(message_key(message.ref)))
        self._uow.update(_proxy(d), actions=actions, condition=m.PostDeliveryModel.status == d.status.value)
        self._uow.update(m.PostModel(post_id=d.post_id), actions=[_COUNTERS[status].add(1)],
                         condition=m.PostModel.post_id.exists())
