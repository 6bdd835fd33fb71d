"""The claims table: once-only markers, each taken by exactly one writer and expired by TTL.

A ``MessageSid`` filed, an idempotency key used, one automatic reply per closed period, one
follow-up per period, a review recorded, a post's sending-rate bucket: each is a conditional put
(``attribute_not_exists``), so of two writers the second loses, inside the same transaction as the
change it guards when it is queued on the unit of work.

A refused message's marker (``twilio#<MessageSid>``) is a small queue too: it sits in the sparse
``twilio_due`` index until the clean-up job has deleted its media and redacted its body at Twilio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ..domain.messages import LeftAtTwilio
from . import models as m
from .conflicts import ConcurrentUpdate
from .writes import WriteQueue, condition_failed, raises

#: Twilio retries a webhook for hours at most; a month is plenty.
SID_TTL = timedelta(days=30)
#: Idempotency keys are remembered this long: a client retrying a send retries within minutes.
IDEMPOTENCY_TTL = timedelta(days=1)


#: The one partition of the ``twilio_due`` index (refusals are few; one Query finds them all).
TWILIO_QUEUE = "twilio"


def sid_key(message_sid: str) -> str:
    return f"sid#{message_sid}"


def twilio_key(message_sid: str) -> str:
    return f"twilio#{message_sid}"


def send_key(message_id: str) -> str:
    """The claim of a staff message's ``Idempotency-Key`` (the message id is derived from the key)."""
    return f"send#{message_id}"


def voice_note_key(client_id: str, period: str) -> str:
    return f"voice#{client_id}#{period}"


#: One voice-note alert per client and closed period; a closed period is shorter than a week.
VOICE_NOTE_TTL = timedelta(days=7)


class ClaimRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    def alert_voice_note_once(self, client_id: str, period: str, at: datetime) -> bool:
        """Queue the claim of a client's voice-note alert in a closed ``period``; False (queuing
        nothing) when it is taken. Two at once: the second commit is ``ConcurrentUpdate``, read again."""
        key = voice_note_key(client_id, period)
        if self.taken(key):
            return False
        self.add(key, at, VOICE_NOTE_TTL, ConcurrentUpdate)
        return True

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

    def taken(self, key: str) -> bool:
        """Whether ``key`` is claimed (a consistent read), as a conditional ``add`` of it would find."""
        try:
            m.ClaimModel.get(key, consistent_read=True, attributes_to_get=["claim_key"])
        except DoesNotExist:
            return False
        return True

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

    # -- refused messages still at Twilio ---------------------------------------------------------

    def leave_at_twilio(self, left: LeftAtTwilio, at: datetime) -> None:
        """Queue the marker of a refused message Twilio still holds, due for clearing at once.

        Unconditional: a second delivery of the same message names the same body and media.
        """
        self._uow.save(m.ClaimModel(claim_key=twilio_key(left.message_sid), created_at=at,
                                    twilio_queue=TWILIO_QUEUE, twilio_due_at=at,
                                    media_sids=list(left.media_sids) or None, attempts=left.attempts))

    def left_at_twilio(self, now: datetime, limit: int = 50) -> list[LeftAtTwilio]:
        """Refused messages due for clearing at Twilio, oldest first (one Query of a sparse index)."""
        items = m.ClaimModel.twilio_due.query(TWILIO_QUEUE, m.ClaimModel.twilio_due_at <= now, limit=limit)
        return [LeftAtTwilio(message_sid=i.claim_key.split("#", 1)[1], media_sids=tuple(i.media_sids or ()),
                             attempts=int(i.attempts or 0)) for i in items]

    def clear_again_at(self, left: LeftAtTwilio, due_at: datetime) -> None:
        """Twilio could not be reached: try again at ``due_at`` (written at once)."""
        try:
            m.ClaimModel(claim_key=twilio_key(left.message_sid)).update(
                actions=[m.ClaimModel.attempts.set(left.attempts), m.ClaimModel.twilio_due_at.set(due_at)],
                condition=m.ClaimModel.claim_key.exists())
        except UpdateError as err:
            if not condition_failed(err):
                raise  # else another run cleared it meanwhile

    def cleared_at_twilio(self, message_sid: str) -> None:
        """Twilio holds nothing of the message any more: forget its SID (written at once)."""
        m.ClaimModel(claim_key=twilio_key(message_sid)).delete()
