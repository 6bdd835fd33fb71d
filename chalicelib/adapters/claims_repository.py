"""The claims table: once-only markers, each taken by exactly one writer and expired by TTL.

A ``MessageSid`` filed, an idempotency key used, one automatic reply per closed period, one
follow-up per period, a review recorded, a post's sending-rate bucket: each is a conditional put
(``attribute_not_exists``), so of two writers the second loses, inside the same transaction as the
change it guards when it is queued on the unit of work.

Services ask for a claim by what it guards (``file_inbound_once``, ``remember_send``,
``claim_followup``...); the key formats and how long each claim is kept are this module's alone
(``*_key`` below, byte for byte the formats items were written with, so stored claims keep holding).

A refused message's marker (``twilio#<MessageSid>``) is a small queue too: it sits in the sparse
``twilio_due`` index until the clean-up job has deleted its media and redacted its body at Twilio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.inbound import Refusal
from ..domain.messages import LeftAtTwilio, Message
from . import models as m
from .conflicts import AlreadyFiled, ConcurrentUpdate, Duplicate
from .writes import WriteQueue, condition_failed, raises

if TYPE_CHECKING:
    from ..domain.followups import FollowupKind

#: Twilio retries a webhook for hours at most; a month is plenty.
SID_TTL = timedelta(days=30)
#: Idempotency keys are remembered this long: a client retrying a send retries within minutes.
IDEMPOTENCY_TTL = timedelta(days=1)
#: A refusal with no file (no policy, a short code) is audited once per MessageSid.
REFUSAL_TTL = timedelta(days=2)
#: One crisis alert per client and closed period; a closed period is shorter than a week.
CRISIS_TTL = timedelta(days=7)
#: One voice-note alert per client and closed period, for as long.
VOICE_NOTE_TTL = CRISIS_TTL
#: One follow-up, check-in or survey per client and period. Periods are at most a calendar month
#: (check-ins); a claim only has to outlive every run that could see the same period again.
FOLLOWUP_TTL = timedelta(days=100)
#: A post's per-second sending bucket is only read within its second.
POST_SLOT_TTL = timedelta(hours=1)

#: The one partition of the ``twilio_due`` index (refusals are few; one Query finds them all).
TWILIO_QUEUE = "twilio"

#: The claim word of each refusal that is audited once per MessageSid without a file.
_REFUSAL_WORDS = {Refusal.AGENCY_NOT_CONFIGURED: "unconfigured", Refusal.SHORT_CODE_SENDER: "short-code"}


# --- the key formats -----------------------------------------------------------------------------


def sid_key(message_sid: str) -> str:
    return f"sid#{message_sid}"


def twilio_key(message_sid: str) -> str:
    return f"twilio#{message_sid}"


def send_key(message_id: str) -> str:
    """The claim of a staff message's ``Idempotency-Key`` (the message id is derived from the key)."""
    return f"send#{message_id}"


def refusal_key(refusal: Refusal, message_sid: str) -> str:
    return f"{_REFUSAL_WORDS[refusal]}#{message_sid}"


def intake_key(sender: str, template: str, window: timedelta, at: datetime) -> str:
    """One intake reply per sender (a keyed hash), template and window (numbered from the epoch)."""
    bucket = int(at.timestamp() // max(window.total_seconds(), 60))
    return f"intake#{sender}#{template}#{bucket}"


def crisis_key(client_id: str, period: str) -> str:
    return f"crisis#{client_id}#{period}"


def voice_note_key(client_id: str, period: str) -> str:
    return f"voice#{client_id}#{period}"


def followup_key(kind: FollowupKind, client_id: str, period: str) -> str:
    return f"{kind.value}#{client_id}#{period}"


def founding_key(agency_id: str) -> str:
    return f"founding#{agency_id}"


def review_key(agency_id: str, event_id: str) -> str:
    """The once-only marker of a review (one per reviewed event)."""
    return f"review#{agency_id}#{event_id}"


def post_slot_key(agency_id: str, now: datetime) -> str:
    """The agency's post-sending bucket of the second ``now`` falls in."""
    return f"rate#posts#{agency_id}#{int(now.timestamp())}"


class ClaimRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- inbound messages -------------------------------------------------------------------------

    def file_inbound_once(self, message_sid: str, at: datetime) -> None:
        """Queue the claim of a delivered ``MessageSid``: committing raises ``Duplicate`` when a
        Twilio retry of it was filed before (a concurrent filing proves nothing: ``ConcurrentUpdate``)."""
        self._add(sid_key(message_sid), at, SID_TTL, Duplicate)

    def refuse_once(self, refusal: Refusal, message_sid: str, at: datetime) -> None:
        """Queue the claim of a refusal filed with no file (no policy, a short code): ``Duplicate``
        when this ``MessageSid`` was refused before."""
        self._add(refusal_key(refusal, message_sid), at, REFUSAL_TTL, Duplicate)

    def reply_to_sender_once(self, sender: str, template: str, window: timedelta, at: datetime) -> bool:
        """Queue the claim of an intake reply to ``sender`` (a keyed hash) in this ``window``; False,
        queuing nothing, when it is taken. Two claims at once: the second commit is ``ConcurrentUpdate``."""
        return self._once(intake_key(sender, template, window, at), at, window + timedelta(hours=1))

    def alert_crisis_once(self, client_id: str, period: str, at: datetime) -> bool:
        """Queue the claim of a client's crisis alert in a closed ``period``; False when it is taken."""
        return self._once(crisis_key(client_id, period), at, CRISIS_TTL)

    def alert_voice_note_once(self, client_id: str, period: str, at: datetime) -> bool:
        """Queue the claim of a client's voice-note alert in a closed ``period``; False when it is taken."""
        return self._once(voice_note_key(client_id, period), at, VOICE_NOTE_TTL)

    # -- staff messages ---------------------------------------------------------------------------

    def remember_send(self, message_id: str, fingerprint: str | None, at: datetime) -> None:
        """Queue the claim of a staff message's ``Idempotency-Key`` (its ``message_id`` is derived
        from the key) with a digest of the request: committing raises ``AlreadyFiled`` when another
        request took it, before or at the same moment."""
        self._add(send_key(message_id), at, IDEMPOTENCY_TTL, AlreadyFiled, ref=message_id, also_conflict=True,
                  fingerprint=fingerprint)

    def send_fingerprint(self, message_id: str) -> str | None:
        """The digest ``remember_send`` kept; None when not taken, or taken before digests were kept."""
        try:
            item = m.ClaimModel.get(send_key(message_id), consistent_read=True)
        except DoesNotExist:
            return None
        return item.fingerprint

    def release_for_erasure(self, messages: Iterable[Message]) -> None:
        """Forget what a file's messages claimed (written at once): their ``MessageSid`` claims and a
        staff message's ``Idempotency-Key`` claim, which keeps a digest of the request's text."""
        messages = list(messages)
        self._release(sid_key(msg.twilio_sid) for msg in messages if msg.twilio_sid)
        self._release(send_key(msg.message_id) for msg in messages if msg.is_staff)

    # -- automated messages -----------------------------------------------------------------------

    def claim_followup(self, kind: FollowupKind, client_id: str, period: str, message_id: str,
                       at: datetime) -> None:
        """Queue the claim of a client's follow-up, check-in or survey for ``period``: committing
        raises ``Duplicate`` when that period's message was filed before."""
        self._add(followup_key(kind, client_id, period), at, FOLLOWUP_TTL, Duplicate, ref=message_id)

    def take_post_slot(self, agency_id: str, now: datetime, per_second: int) -> bool:
        """One send in the agency's post bucket of this second, if fewer than ``per_second`` were taken
        (written at once)."""
        try:
            m.ClaimModel(claim_key=post_slot_key(agency_id, now)).update(
                actions=[m.ClaimModel.count.add(1), m.ClaimModel.created_at.set(now),
                         m.ClaimModel.expires_at.set(now + POST_SLOT_TTL)],
                condition=m.ClaimModel.count.does_not_exist() | (m.ClaimModel.count < per_second))
        except UpdateError as err:
            if condition_failed(err):
                return False
            raise
        return True

    # -- administration and supervision -----------------------------------------------------------

    def found_agency(self, agency_id: str, founder_id: str, at: datetime, on_taken: Callable[[], Exception]) -> None:
        """Queue the claim of founding an agency (its first staff record), kept for good: committing
        raises ``on_taken()`` when someone founded it before, or at the same moment."""
        self._add(founding_key(agency_id), at, None, on_taken, ref=founder_id, also_conflict=True)

    def mark_reviewed(self, agency_id: str, event_id: str, reviewer_id: str, at: datetime,
                      on_taken: Callable[[], Exception]) -> None:
        """Queue the review of an audit event, kept for good: ``on_taken()`` when it was reviewed before."""
        self._add(review_key(agency_id, event_id), at, None, on_taken, ref=reviewer_id)

    def reviews(self, agency_id: str, event_ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
        """event id -> (reviewed at, reviewer) for those of ``event_ids`` reviewed (BatchGetItem)."""
        keys = {review_key(agency_id, event_id): event_id for event_id in event_ids}
        return {keys[item.claim_key]: (item.created_at, item.ref or "")
                for item in m.ClaimModel.batch_get(sorted(keys))}

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

    # -- the claim itself ---------------------------------------------------------------------------

    def _add(self, key: str, at: datetime, ttl: timedelta | None, exception: Callable[[], Exception], *,
             ref: str | None = None, also_conflict: bool = False, fingerprint: str | None = None) -> None:
        """Queue the claim of ``key``; committing raises ``exception()`` when it was taken before.

        ``also_conflict``: a concurrent transaction taking it at the same moment counts as taken too.
        ``fingerprint``: a digest of the request that took it, for ``send_fingerprint`` to compare with.
        """
        item = m.ClaimModel(claim_key=key, created_at=at, ref=ref, expires_at=at + ttl if ttl else None,
                            fingerprint=fingerprint)
        self._uow.save(item, condition=m.ClaimModel.claim_key.does_not_exist(),
                       on_conflict=raises(exception, also_conflict=also_conflict))

    def _once(self, key: str, at: datetime, ttl: timedelta) -> bool:
        """Queue the claim of ``key`` unless it is taken now (a consistent read); a claim taken
        between that read and the commit makes the commit ``ConcurrentUpdate`` (read again)."""
        try:
            m.ClaimModel.get(key, consistent_read=True, attributes_to_get=["claim_key"])
        except DoesNotExist:
            self._add(key, at, ttl, ConcurrentUpdate)
            return True
        return False

    @staticmethod
    def _release(keys: Iterable[str]) -> None:
        for key in keys:  # an unconditional delete: a claim already gone is no error
            m.ClaimModel(claim_key=key).delete()
