"""Copy client media from Twilio into the agency's bucket, then delete it at Twilio (SPEC §5.7).

Inbound messages with media are filed at once with their media ``pending`` and sit in a sparse
queue (``outbound_due`` under ``media#<agency>``). ``copy_media`` works that queue: download,
store (SSE), record, delete at Twilio. A failure leaves the item for a later run with a growing
pause, up to ``MAX_ATTEMPTS`` downloads; then the item is shown as ``failed`` (Twilio keeps its copy,
which erasure still deletes). A URL that is not Twilio's media resource of that very message is
never fetched: the item fails at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..adapters.media import MediaRejected, MediaUnavailable
from ..adapters.unit_of_work import ConcurrentUpdate
from ..domain.audit import AuditEvent, AuditType
from ..domain.clock import utcnow
from ..domain.messages import MediaRef, MediaStatus, Message

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.media")

MAX_PAUSE = timedelta(hours=6)
# Downloads tried before an item is shown as failed: 1+2+4+…+64 minutes, about two hours of pauses.
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes between tries, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_PAUSE)


def media_key(msg: Message, index: int) -> str:
    return f"{msg.agency_id}/{msg.client_id}/{msg.message_id}/{index}"


class MediaService:
    def __init__(self, uow: Callable[[], UnitOfWork], twilio: Any, bucket: Any, policies: Any) -> None:
        self._uow = uow
        self._twilio = twilio
        self._bucket = bucket
        self._policies = policies

    def copy_due(self, now: datetime | None = None) -> int:
        """Work every agency's media queue once; returns how many items reached the bucket."""
        now = now or utcnow()
        stored = 0
        for policy in self._policies.all():
            for msg in self._uow().messages.media_due(policy.agency_id, now):
                try:
                    stored += self.copy_message(msg, now)
                except ConcurrentUpdate:
                    continue  # someone else worked it at the same time; the next run sees the result
        return stored

    def copy_message(self, msg: Message, now: datetime) -> int:
        refs = list(msg.media)
        copied = 0
        failed = False
        gave_up = 0
        for i, ref in enumerate(refs):
            if ref.status in (MediaStatus.STORED, MediaStatus.FAILED):
                continue
            try:
                refs[i] = self._advance(msg, i, ref)
                if ref.status is MediaStatus.PENDING:
                    copied += 1
            except MediaRejected as err:
                # Forged or foreign: forget the URL (it is not Twilio's media) and never try it again.
                refs[i] = replace(ref, status=MediaStatus.FAILED, twilio_url=None, attempts=ref.attempts + 1)
                gave_up += 1
                log.warning("media refused: %s", err)
            except MediaUnavailable as err:
                refs[i] = replace(ref, attempts=ref.attempts + 1)
                if refs[i].status is MediaStatus.PENDING and refs[i].attempts >= MAX_ATTEMPTS:
                    refs[i] = replace(refs[i], status=MediaStatus.FAILED)
                    gave_up += 1
                    log.warning("media copy failed %d times; shown as failed: %s", MAX_ATTEMPTS, err)
                else:
                    failed = True
                    log.warning("media copy will be retried: %s", err)
        done = all(r.status in (MediaStatus.STORED, MediaStatus.FAILED) for r in refs)
        next_try = None if done else now + backoff(max(r.attempts for r in refs) if failed else 1)
        self._uow().messages.save_media(msg, refs, next_try)
        if gave_up:
            self._uow().audit.append([AuditEvent(
                agency_id=msg.agency_id, type=AuditType.MEDIA_FAILED, at=now, actor="system",
                client_id=msg.client_id, staff_id=msg.staff_id,
                details={"message_id": msg.message_id, "items": gave_up},
            )])
        if copied:
            self._uow().audit.append([AuditEvent(
                agency_id=msg.agency_id, type=AuditType.MEDIA_STORED, at=now, actor="system",
                client_id=msg.client_id, staff_id=msg.staff_id,
                details={"message_id": msg.message_id, "items": copied},
            )])
        return copied

    def _advance(self, msg: Message, index: int, ref: MediaRef) -> MediaRef:
        if ref.status is MediaStatus.PENDING:
            if not ref.twilio_url:
                raise MediaUnavailable("media has no Twilio URL")
            fetched = self._twilio.download(ref.twilio_url, message_sid=msg.twilio_sid)
            key = media_key(msg, index)
            self._bucket.put(key, fetched.data, fetched.content_type or ref.content_type)
            ref = replace(ref, s3_key=key, status=MediaStatus.COPIED, size=len(fetched.data))
        media_sid = ref.twilio_media_sid
        if msg.twilio_sid and media_sid:
            try:
                self._twilio.delete(msg.twilio_sid, media_sid)
            except MediaUnavailable:
                # Safe in our bucket already; only Twilio's copy is left to delete next time.
                return replace(ref, attempts=ref.attempts + 1)
        return replace(ref, status=MediaStatus.STORED, twilio_url=None)
