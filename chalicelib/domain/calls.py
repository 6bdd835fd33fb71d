"""Calls from and to work numbers (SPEC §5.10), as pure decisions and words.

* A call's life, in our words (``CallStatus``), read from Twilio's (``queued``, ``in-progress``,
  ``no-answer`` ...); a late callback never moves a call back (``call_status_advances``).
* What a caller to a work number hears (``answer_incoming``): while open, a consented client's
  call rings their worker's own phone (or the covering colleague's), and falls to voicemail when
  nobody answers; while closed, the emergency line first, then the after-hours text in their
  language, then the voicemail prompt. A caller without a consented file hears the intake text,
  and nothing is recorded.
* What Twilio says back is rendered at the edge (TwiML); here it is a plain ``VoiceAnswer``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .audit import new_id
from .business_time import response_deadline
from .i18n import format_next_open
from .inbox import preview_of
from .inquiry import Inquiry, InquiryStatus
from .model import Client
from .policy import Policy

#: How long the worker's phone rings before the caller is offered voicemail.
RING_SECONDS = 25
#: The longest voicemail kept (Twilio's ``maxLength``).
VOICEMAIL_SECONDS = 180
#: What a voicemail is stored as: Twilio serves a recording as MP3 when asked for ``.mp3``.
VOICEMAIL_TYPE = "audio/mpeg"
VOICEMAIL_SUFFIX = ".mp3"


class CallStatus(enum.StrEnum):
    """Where a call is: one word per state, in the API, the store and the audit."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @classmethod
    def of(cls, twilio: str) -> CallStatus | None:
        """Ours for one of Twilio's call words (``initiated`` reads as queued); None for others."""
        word = (twilio or "").strip().lower().replace("-", "_")
        if word == "initiated":
            return cls.QUEUED
        if word == "answered":
            return cls.IN_PROGRESS
        try:
            return cls(word)
        except ValueError:
            return None

    @property
    def ended(self) -> bool:
        return self in _ENDED

    @property
    def answered(self) -> bool:
        """The person called picked up (a conversation took place)."""
        return self in (CallStatus.IN_PROGRESS, CallStatus.COMPLETED)


_ENDED = frozenset({CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED,
                    CallStatus.CANCELED})
_RANK = {CallStatus.QUEUED: 1, CallStatus.RINGING: 2, CallStatus.IN_PROGRESS: 3}


def call_status_advances(current: CallStatus | str | None, new: CallStatus) -> bool:
    """Whether a callback saying ``new`` should replace ``current``: forward only, an ended call stays."""
    now = CallStatus.of(current) if isinstance(current, str) else current
    if now is None:
        return True
    if now.ended or now is new:
        return False
    if new.ended:
        return True
    return _RANK.get(new, 0) > _RANK.get(now, 0)


def duration_of(value: str | None) -> int | None:
    """Twilio's ``CallDuration``/``DialCallDuration``/``RecordingDuration`` in whole seconds, or None."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 7:
        return None
    return int(text)


# -- what a caller hears ------------------------------------------------------------------------

#: Twilio ``<Say>`` languages and voices for the languages agencies write in; English otherwise.
SAY_VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"),
    "fr": ("fr-CA", "Polly.Chantal"),
    "ar": ("arb", "Polly.Zeina"),
    "es": ("es-US", "Polly.Lupe"),
    "pt": ("pt-BR", "Polly.Camila"),
    "de": ("de-DE", "Polly.Marlene"),
    "tr": ("tr-TR", "Polly.Filiz"),
    "zh": ("cmn-CN", "Polly.Zhiyu"),
}

#: The emergency line, said before anything else to a caller while closed (SPEC §5.10).
EMERGENCY_FIRST = {
    "en": "If this is an emergency, call {emergency_line} now.",
    "fr": "En cas d'urgence, appelez le {emergency_line} maintenant.",
    "ar": "إذا كانت هذه حالة طارئة، اتصل بالرقم {emergency_line} الآن.",
}
VOICEMAIL_PROMPT = {
    "en": "Please leave a message after the tone, then hang up.",
    "fr": "Veuillez laisser un message après le bip, puis raccrochez.",
    "ar": "يرجى ترك رسالة بعد سماع الصفارة، ثم أغلق الخط.",
}


def say_voice(language: str) -> tuple[str, str]:
    """(Twilio ``language``, ``voice``) for a client's BCP 47 tag; English when there is none."""
    primary = (language or "en").replace("_", "-").split("-")[0].lower()
    return SAY_VOICES.get(primary, SAY_VOICES["en"])


def _words(texts: dict[str, str], language: str) -> tuple[str, str]:
    primary = (language or "en").replace("_", "-").split("-")[0].lower()
    return (primary, texts[primary]) if primary in texts else ("en", texts["en"])


@dataclass(frozen=True)
class Said:
    """One ``<Say>``: the text and the language it is written in."""

    text: str
    language: str


@dataclass(frozen=True)
class Ring:
    """A ``<Dial>`` to a member of staff's own phone, showing the work number."""

    phone: str
    caller_id: str
    timeout: int = RING_SECONDS


@dataclass(frozen=True)
class VoiceAnswer:
    """What Twilio is told to do with a call, in order: say, then ring or record, or hang up."""

    said: tuple[Said, ...] = ()
    ring: Ring | None = None
    record: bool = False
    # Why, in one word, for the webhook's header (never content): ring, voicemail, intake, ignored...
    outcome: str = "hangup"


def _said(text: str, language: str) -> Said:
    return Said(text=text, language=language)


def intake_answer(policy: Policy, language: str | None = None) -> VoiceAnswer:
    """A caller with no consented file: the intake text, then goodbye; nothing is recorded."""
    tag = language or (policy.languages[0] if policy.languages else "en")
    used = policy.template_language("intake", tag)
    return VoiceAnswer(said=(_said(policy.render("intake", tag), used),), outcome="intake")


def closed_answer(policy: Policy, language: str, at: datetime) -> VoiceAnswer:
    """While closed: the emergency line first, the after-hours text, then the voicemail prompt."""
    used = policy.template_language("after_hours", language)
    next_open = format_next_open(policy.calendar.clock_start(at), policy.timezone, used, now=at)
    first_language, first = _words(EMERGENCY_FIRST, language)
    prompt_language, prompt = _words(VOICEMAIL_PROMPT, language)
    return VoiceAnswer(
        said=(
            _said(policy.render_text(first), first_language),
            _said(policy.render("after_hours", language, next_open=next_open), used),
            _said(prompt, prompt_language),
        ),
        record=True,
        outcome="voicemail",
    )


def voicemail_answer(language: str) -> VoiceAnswer:
    """Nobody answered while open: the voicemail prompt, then the recording."""
    prompt_language, prompt = _words(VOICEMAIL_PROMPT, language)
    return VoiceAnswer(said=(_said(prompt, prompt_language),), record=True, outcome="voicemail")


def ring_answer(phone: str, work_number: str) -> VoiceAnswer:
    return VoiceAnswer(ring=Ring(phone=phone, caller_id=work_number), outcome="ring")


# -- a voicemail starts the response clock like a message (SPEC §5.2, §5.10) --------------------


@dataclass(frozen=True)
class VoicemailClock:
    """What a voicemail does to the file's clock: open an inquiry, or join the one already open."""

    inquiry: Inquiry | None  # a new inquiry, or None when it joins ``inquiry_id``
    inquiry_id: str
    client_changes: dict[str, Any]


def voicemail_clock(client: Client, policy: Policy, at: datetime, holder: str | None = None) -> VoicemailClock:
    """Open or join, as a client message does; ``holder`` is the covering colleague, if any."""
    changes: dict[str, Any] = {"last_inbound_preview": preview_of(None, 1)}
    if client.open_inquiry_id:
        return VoicemailClock(None, client.open_inquiry_id, changes)
    due = response_deadline(at, policy.calendar, policy.response_target, policy.clock)
    inquiry = Inquiry(new_id("inq"), client.agency_id, client.client_id, holder or client.case_manager_id,
                      InquiryStatus.OPEN, opened_at=at, due_at=due)
    changes.update(open_inquiry_id=inquiry.inquiry_id, open_inquiry_due_at=due, open_inquiry_opened_at=at)
    return VoicemailClock(inquiry, inquiry.inquiry_id, changes)


__all__ = [
    "CallStatus",
    "EMERGENCY_FIRST",
    "RING_SECONDS",
    "Ring",
    "Said",
    "VOICEMAIL_PROMPT",
    "VoiceAnswer",
    "call_status_advances",
    "closed_answer",
    "duration_of",
    "intake_answer",
    "ring_answer",
    "say_voice",
    "VoicemailClock",
    "voicemail_answer",
    "voicemail_clock",
]
