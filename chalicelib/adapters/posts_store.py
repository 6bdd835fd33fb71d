"""Storage of information posts: the post with its progress, one delivery row per recipient.

Every change of a delivery's status is a conditional write on its version, and the post's
``sent``/``failed``/``skipped`` counters move in the same transaction, so ``GET /posts/{id}``
(one GetItem) is exact whatever retries or duplicate queue deliveries happened. A delivered copy
is filed in the recipient's messages (kind ``post``) with its audit event in that transaction too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import TransactWriteError, UpdateError

from ..domain.audit import AuditEvent
from ..domain.posts import DeliveryStatus
from . import models as m
from .store import DynamoStore, audit_item, condition_failed

RATE_BUCKET_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Delivery:
    post_id: str
    client_id: str
    status: DeliveryStatus
    attempts: int
    retry_at: datetime | None
    lease_until: datetime | None
    version: int | None  # None until the first change (rows are created by a batch write)


def _delivery(item: m.PostDeliveryModel) -> Delivery:
    return Delivery(item.post_id, item.client_id, DeliveryStatus(item.status), int(item.attempts or 0),
                    item.retry_at, item.lease_until,
                    int(item.version) if item.version is not None else None)


class PostsStore:
    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    # -- the post -----------------------------------------------------------------------------

    def create(self, post: m.PostModel, client_ids: Sequence[str], event: AuditEvent) -> None:
        """Delivery rows first, then the post and its audit event in one transaction.

        A crash between the two leaves rows no post points to: nothing reads them.
        """
        with m.PostDeliveryModel.batch_write() as batch:
            for client_id in client_ids:
                batch.save(m.PostDeliveryModel(post_id=post.post_id, client_id=client_id, status="pending",
                                               attempts=0))
        with self._store.transaction() as tx:
            tx.save(post, condition=m.PostModel.post_id.does_not_exist())
            tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())

    def get(self, post_id: str) -> m.PostModel | None:
        try:
            return m.PostModel.get(post_id, consistent_read=True)
        except m.PostModel.DoesNotExist:
            return None

    def due(self, agency_id: str, now: datetime) -> list[str]:
        return [i.post_id for i in m.PostModel.posts_due.query(agency_id, m.PostModel.due_at <= now)]

    def set_due(self, post_id: str, agency_id: str, at: datetime | None) -> None:
        actions = ([m.PostModel.due_agency.remove(), m.PostModel.due_at.remove()] if at is None
                   else [m.PostModel.due_agency.set(agency_id), m.PostModel.due_at.set(at)])
        m.PostModel(post_id=post_id).update(actions=actions, condition=m.PostModel.post_id.exists())

    # -- deliveries ---------------------------------------------------------------------------

    def deliveries(self, post_id: str) -> list[Delivery]:
        return [_delivery(i) for i in m.PostDeliveryModel.query(post_id, consistent_read=True)]

    def delivery(self, post_id: str, client_id: str) -> Delivery | None:
        try:
            return _delivery(m.PostDeliveryModel.get(post_id, client_id, consistent_read=True))
        except m.PostDeliveryModel.DoesNotExist:
            return None

    def _proxy(self, d: Delivery) -> m.PostDeliveryModel:
        item = m.PostDeliveryModel(post_id=d.post_id, client_id=d.client_id)
        if d.version is not None:
            item.version = d.version  # else PynamoDB conditions on the version not existing yet
        return item

    def claim(self, d: Delivery, lease_until: datetime) -> Delivery | None:
        """Move a waiting copy to ``sending``; None if someone else moved it first."""
        try:
            self._proxy(d).update(actions=[
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
            self._proxy(d).update(actions=[
                m.PostDeliveryModel.status.set(DeliveryStatus.QUEUED.value),
                m.PostDeliveryModel.retry_at.set(retry_at),
                m.PostDeliveryModel.reason.set(reason or "transient"),
            ], condition=m.PostDeliveryModel.status == DeliveryStatus.SENDING.value)
        except UpdateError as err:
            if not condition_failed(err):
                raise

    def finish(self, d: Delivery, status: DeliveryStatus, reason: str | None = None,
               message: m.MessageModel | None = None, events: Iterable[AuditEvent] = ()) -> bool:
        """Record a final status once (and count it on the post); False if it was already final."""
        counter = {DeliveryStatus.SENT: m.PostModel.sent, DeliveryStatus.FAILED: m.PostModel.failed,
                   DeliveryStatus.SKIPPED: m.PostModel.skipped}[status]
        actions = [m.PostDeliveryModel.status.set(status.value)]
        if reason:
            actions.append(m.PostDeliveryModel.reason.set(reason))
        if message is not None:
            actions.append(m.PostDeliveryModel.message_sk.set(message.sk))
        try:
            with self._store.transaction() as tx:
                tx.update(self._proxy(d), actions=actions, condition=m.PostDeliveryModel.status == d.status.value)
                tx.update(m.PostModel(post_id=d.post_id), actions=[counter.add(1)],
                          condition=m.PostModel.post_id.exists())
                if message is not None:
                    tx.save(message, condition=m.MessageModel.sk.does_not_exist())
                for event in events:
                    tx.save(audit_item(event), condition=m.AuditModel.sk.does_not_exist())
        except TransactWriteError as err:
            if any(DynamoStore._cancelled_by_condition(err)):
                return False
            raise
        return True

    # -- the sending rate ---------------------------------------------------------------------

    def take_send_slot(self, agency_id: str, now: datetime, per_second: int) -> bool:
        """One send in this second for the agency, if fewer than ``per_second`` were taken."""
        second = int(now.timestamp())
        bucket = m.ClaimModel(claim_key=f"rate#posts#{agency_id}#{second}")
        try:
            bucket.update(actions=[m.ClaimModel.count.add(1), m.ClaimModel.created_at.set(now),
                                   m.ClaimModel.expires_at.set(now + RATE_BUCKET_TTL)],
                          condition=m.ClaimModel.count.does_not_exist() | (m.ClaimModel.count < per_second))
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True
