"""Refused messages leave nothing at Twilio either (SPEC §5.3, §5.7).

A message CMDM refuses (no file for the sender, no consent for the channel, opted out, a closed
or suspended file, a short code, an agency without a policy) is stored nowhere here; but Twilio
keeps its body in its message log, and its media behind its media URLs, until told otherwise. The
refusal's unit of work leaves a marker with the ids only (``claims``: ``twilio#<MessageSid>`` and
the media SIDs), and the ``clear_refused_at_twilio`` job, every minute, deletes each media item and
redacts the body through Twilio's API (``adapters.media.TwilioMedia``, as erasure does for an
erased file), then forgets the marker.

It runs after the webhook has answered, when Twilio is done delivering the message, and the
marker was committed with the refusal, so nothing is lost to a failed request or a cold
container. Both calls count an item Twilio no longer has as done. A failure (Twilio unreachable
or refusing) keeps the marker for a later run, with a growing pause (``media.backoff``, at most six
hours); it is never given up, and each failed attempt is logged with its status code only.
Where Twilio is out of reach by design (an outbox-only stage, whose messages never came through
Twilio) the markers are dropped: there is nothing to clear.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters.media import MediaUnavailable
from ..domain.clock import utcnow
from ..domain.messages import LeftAtTwilio
from .media import backoff

if TYPE_CHECKING:
    from ..adapters.unit_of_work import UnitOfWork

log = logging.getLogger("cmdm.twilio_cleanup")

#: After this many failed attempts in a row each further one is logged as an error, not a warning.
LOUD_AFTER = 8


class TwilioCleanup:
    def __init__(self, uow: Callable[[], UnitOfWork], twilio: Any) -> None:
        self._uow = uow
        self._twilio = twilio  # adapters.media.TwilioMedia, or None where Twilio is never reached

    def run(self, now: datetime | None = None) -> dict[str, int]:
        """Clear every refused message that is due; what happened, when anything did (for the job log)."""
        now = now or utcnow()
        claims = self._uow().claims
        cleared = failed = 0
        for left in claims.left_at_twilio(now):
            try:
                self._clear(left)
            except Exception as err:  # one message must not stop the others; no content, no SID logged
                failed += 1
                attempts = left.attempts + 1
                (log.error if attempts >= LOUD_AFTER else log.warning)(
                    "clearing a refused message at Twilio failed (attempt %d), will be retried: %s",
                    attempts, _reason(err))
                claims.clear_again_at(LeftAtTwilio(left.message_sid, left.media_sids, attempts),
                                      now + backoff(attempts))
                continue
            claims.cleared_at_twilio(left.message_sid)
            cleared += 1
        return {"cleared": cleared, "failed": failed} if cleared or failed else {}

    def _clear(self, left: LeftAtTwilio) -> None:
        if self._twilio is None:
            return
        for media_sid in left.media_sids:
            self._twilio.delete(left.message_sid, media_sid)
        self._twilio.redact(left.message_sid)


def _reason(err: Exception) -> str:
    # MediaUnavailable says only what Twilio answered ("twilio answered 503 to the redaction").
    return str(err) if isinstance(err, MediaUnavailable) else type(err).__name__
