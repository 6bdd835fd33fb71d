"""The claims table: once-only markers, each taken by exactly one writer and expired by TTL.

A ``MessageSid`` filed, an idempotency key used, one automatic reply per closed period, one
follow-up per period, a review recorded, a post's sending-rate bucket: each is a conditional put
(``attribute_not_exists``), so of two writers the second loses, inside the same transaction as the
change it guards when it is queued on the unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import PutError, UpdateError

from . import models as m
from .unit_of_work import condition_failed, raises

if TYPE_CHECKING:
    from .unit_of_work import UnitOfWork

#: Twilio retries a webhook for hours at most; a month is plenty.
SID_TTL = timedelta(days=30)
#: Idempotency keys are remembered this long: a client retrying a send retries within minutes.
IDEMPOTENCY_TTL = timedelta(days=1)


def sid_key(message_sid: str) -> str:
    return f"sid#{message_sid}"


def send_key(message_id: str) -> str:
    """The claim of a staff message's ``Idempotency-Key`` (the message id is derived from the key)."""
    return f"send#{message_id}"


class ClaimRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def add(self, key: str, at: datetime, ttl: timedelta | None, exception: Callable[[], Exception], *,
            ref: str | None = None, also_conflict: bool = False, fingerprint: str | None = None) -> None:
        """Queue the claim of ``key``; committing raises ``exception()`` when it was taken before.

        ``also_conflict``: a concurrent transaction taking it at the same moment counts as taken too.
        ``fingerprint``: a digest of the request that took it, for ``fingerprint`` to compare with.
        """
        item = m.ClaimModel(claim_key=key, created_at=at, ref=ref, expires_at=at + ttl if ttl else None,
                            fingerprint=fingerprint)
        self._uow.save(item, condition=m.ClaimModel.claim_key.does_not_exist(),
                       on_conflict=raises(exception, also_conflict=also_conflict))

    def take(self, key: str, at: datetime, ttl: timedelta) -> bool:
        """Take a once-only marker now (e.g. one intake reply per sender per day); False when taken."""
        try:
            m.ClaimModel(claim_key=key, created_at=at, expires_at=at + ttl).save(
                condition=m.ClaimModel.claim_key.does_not_exist())
        except PutError as err:
            if condition_failed(err):
                return False
            raise
        return True

    def fingerprint(self, key: str) -> str | None:
        """The fingerprint ``key`` was claimed with; None when it is not taken, or taken without one."""
        try:
            item = m.ClaimModel.get(key, consistent_read=True)
        except m.ClaimModel.DoesNotExist:
            return None
        return item.fingerprint

    def refs(self, keys: Iterable[str]) -> dict[str, tuple[datetime, str]]:
        """key -> (taken at, ref) for those of ``keys`` that are taken (BatchGetItem)."""
        wanted = sorted(set(keys))
        return {item.claim_key: (item.created_at, item.ref or "") for item in m.ClaimModel.batch_get(wanted)}

    def release(self, keys: Iterable[str]) -> None:
        """Forget claims (erasure: the ``MessageSid`` claims of a file's messages)."""
        for key in keys:  # an unconditional delete: a claim already gone is no error
            m.ClaimModel(claim_key=key).delete()

    def take_slot(self, key: str, now: datetime, limit: int, ttl: timedelta) -> bool:
        """One use of a counted bucket (a sending rate), if fewer than ``limit`` were taken."""
        try:
            m.ClaimModel(claim_key=key).update(
                actions=[m.ClaimModel.count.add(1), m.ClaimModel.created_at.set(now),
                         m.ClaimModel.expires_at.set(now + ttl)],
                condition=m.ClaimModel.count.does_not_exist() | (m.ClaimModel.count < limit))
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True
