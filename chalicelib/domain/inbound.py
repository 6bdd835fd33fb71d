"""What to do with a message a client sends to a work number (SPEC §5.2, §5.3, §5.5, §5.7).

Everything here is a pure decision over values: the message, the client file it came from (or
none), the agency's policy and the time. The service reads the file, asks ``decide`` and writes
what the ``Decision`` says in one transaction; nothing here knows about Twilio or DynamoDB.

Rules, in the order they apply:

1. Keywords follow Twilio's conventions and are matched exactly, after trimming, in any case
   (ASCII only, so a look-alike such as the long s in "ſtop" is an ordinary message): the STOP
   family opts out, the START family opts back in, HELP/INFO get the policy's help text. Twilio's
   own ``OptOutType`` (sent when Advanced Opt-Out recognised a keyword) counts the same.
   "Stop please" is an ordinary message. START and YES act only for a client who opted out;
   for anyone else "Yes" is an answer to a question and is filed like any message.
2. The consent gate: a file, active, with consent on record for the channel, not opted out.
   Anything else is refused: the body is stored nowhere, only the reason is audited, and the
   sender gets the policy's intake text (rate-limited per sender by the service).
   The policy's own opt-out words per language (``keywords.stop``, e.g. Arabic "توقف") count as
   STOP too, on both channels (Twilio knows only the English ones).
3. A reply of 1–5 (any script's decimal digits, e.g. Arabic-Indic ٣) within the policy's
   survey reply window after a survey, not yet scored, is a satisfaction score: filed with the
   score, no inquiry.
4. A message with nothing in it (no text, media, location or button) is filed and opens nothing.
5. Otherwise the message opens an inquiry (or joins the open one). A message with one of the
   policy's crisis words (``keywords.crisis``), at any hour, marks the message, its inquiry and the
   file ``crisis`` (SPEC §5.9; the file's mark puts it first in the inbox until the inquiry is
   answered). While closed it is answered with the ``crisis`` text (the emergency line first),
   every time, and the on-call person is alerted (``Alert.CRISIS_ON_CALL``); while open, whoever
   answers the file and the supervisors are, once per crisis (``Alert.CRISIS_OPEN``). A voice
   note received while closed has no words to match: the on-call person is told it waits
   (``Alert.VOICE_NOTE``). While the agency is closed the client gets one automatic reply per
   closed period; during an absence of the case manager (``Cover``) one absence reply per
   ``Cover.reply_key``, and a new inquiry tells the colleague covering (``Alert.NEW_FOR_COVER``).
   Automatic replies never answer an inquiry.

Decisions worth knowing:

* SMS keywords are answered by Twilio itself (Advanced Opt-Out), so STOP and START get no reply
  from us on SMS; on WhatsApp, which has no such service, we confirm with the policy's
  ``opted_out`` / ``opted_in`` texts. HELP is answered on both channels.
* An opted-out client who writes anything but START gets, on WhatsApp only and rate-limited,
  the ``opted_out`` text (which says how to start again) rather than the intake text, which would
  wrongly ask someone with a file to come and open one. On SMS Twilio blocks replies to an
  opted-out number, so nothing is sent.
* STOP from a file without consent still records the opt-out on that file: the client's wish
  holds even if consent is signed later. STOP from a number with no file is only audited.
* START without consent on record restores nothing (SPEC §5.3): the opt-out stays, the message
  is refused like any unconsented message.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .business_time import response_deadline
from .crisis import is_voice_note
from .i18n import format_next_open
from .model import Channel, Client, ClientStatus, ConsentState
from .policy import Policy

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "cancel"})
START_WORDS = frozenset({"start", "yes", "unstop"})
HELP_WORDS = frozenset({"help", "info"})


class Keyword(enum.Enum):
    STOP = "stop"
    START = "start"
    HELP = "help"


class OptSource(enum.Enum):
    """Why an opt-out/opt-in was recorded (audit details ``source``)."""

    KEYWORD = "keyword"
    OPT_OUT_TYPE = "opt_out_type"
    ERROR_21610 = "error_21610"


class Refusal(enum.Enum):
    """Why a message was not filed (audit ``MESSAGE_REFUSED`` details ``reason``)."""

    NO_FILE = "no_file"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    OPTED_OUT = "opted_out"
    FILE_SUSPENDED = "file_suspended"
    FILE_CLOSED = "file_closed"
    FILE_ERASED = "file_erased"
    CHANNEL_NOT_PROVISIONED = "channel_not_provisioned"
    AGENCY_NOT_CONFIGURED = "agency_not_configured"  # the number's agency has no policy file here
    SHORT_CODE_SENDER = "short_code_sender"  # a service's short code, not a person: acknowledged, ignored


class InquiryStep(enum.Enum):
    NONE = "none"
    OPEN = "open"
    JOIN = "join"


class OptChange(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class Alert(enum.Enum):
    """Whom a filed message tells at once (notifications; SPEC §5.9, §4.4)."""

    CRISIS_ON_CALL = "crisis_on_call"  # closed: the on-call person (once per client and closed period)
    CRISIS_OPEN = "crisis_open"  # open: whoever answers the file, and the supervisors (once per crisis)
    VOICE_NOTE = "voice_note"  # closed: a voice note waits (the on-call person)
    NEW_FOR_COVER = "new_for_cover"  # a client of an absent worker opened an inquiry: the colleague covering


class ReplyKind(enum.Enum):
    AUTO_REPLY = "auto_reply"  # to a file: recorded in it as an outbound message
    INTAKE = "intake"  # to a refused sender: nothing is filed, rate-limited per sender


def classify_keyword(body: str | None, opt_out_type: str | None = None) -> tuple[Keyword | None, OptSource | None]:
    """The keyword a message is, and whether Twilio or the text said so (SPEC §5.3)."""
    flagged = (opt_out_type or "").strip().upper()
    if flagged in ("STOP", "START", "HELP"):
        return Keyword(flagged.lower()), OptSource.OPT_OUT_TYPE
    text = (body or "").strip()
    if not text or len(text) > 16 or not text.isascii():
        return None, None
    word = text.lower()
    if word in STOP_WORDS:
        return Keyword.STOP, OptSource.KEYWORD
    if word in START_WORDS:
        return Keyword.START, OptSource.KEYWORD
    if word in HELP_WORDS:
        return Keyword.HELP, OptSource.KEYWORD
    return None, None


def _folded(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "").strip().casefold()


def is_policy_stop_word(body: str | None, policy: Policy) -> bool:
    """Whether the whole message is one of the policy's opt-out words (``keywords.stop``), any language.

    Matched like Twilio's keywords: the whole message, trimmed, in any case ("توقف", "arrêt").
    """
    text = _folded(body)
    if not text or len(text) > 40:
        return False
    return any(text == _folded(word) for words in policy.stop_words.values() for word in words)


def has_crisis_word(body: str | None, policy: Policy) -> bool:
    """Whether the message contains one of the policy's crisis words (``keywords.crisis``), any language.

    Any language's words count, whatever the client's language: a missed crisis costs more than
    a false alarm, which the on-call person simply reads.
    """
    text = _folded(body)
    if not text:
        return False
    return any(_folded(word) and _folded(word) in text for words in policy.crisis_words.values() for word in words)


def parse_score(body: str | None) -> int | None:
    """A satisfaction score 1–5 when the whole message (trimmed) is one such digit, in any script."""
    text = (body or "").strip()
    if len(text) != 1 or unicodedata.category(text) != "Nd":
        return None
    value = unicodedata.decimal(text, None)
    return value if value is not None and 1 <= value <= 5 else None


def sender_key(secret: bytes, agency_id: str, phone: str) -> str:
    """A keyed hash naming one sender to one agency, for rate limits: the number cannot be recovered."""
    return hmac.new(secret, f"{agency_id}|{phone}".encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class Cover:
    """The case manager is away (issue 4's absences): who holds new clocks, and how to say so."""

    staff_id: str
    case_manager_name: str
    cover_name: str
    reply_key: str  # one absence reply per key and client (e.g. absence id + closed period)


CoverLookup = Callable[[Client, datetime], Cover | None]


def no_cover(client: Client, at: datetime) -> Cover | None:
    return None


@dataclass(frozen=True)
class FileState:
    """The parts of a client file that inbound decisions read beyond ``Client`` itself."""

    client: Client
    last_auto_reply_period: str | None = None
    last_survey_at: datetime | None = None
    last_survey_scored_at: datetime | None = None


@dataclass(frozen=True)
class Arrival:
    """One inbound message, already routed to an agency and a channel."""

    channel: Channel
    body: str
    at: datetime
    opt_out_type: str | None = None
    num_media: int = 0
    has_substance: bool = False  # a location share or a pressed button: something said without a body
    media_types: tuple[str, ...] = ()  # the content types of its media (``audio/*``: a voice note)

    @property
    def empty(self) -> bool:
        """Nothing to answer: no text, no media, no location, no button (e.g. an unsupported type)."""
        return not (self.body or "").strip() and self.num_media == 0 and not self.has_substance


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    template: str
    body: str


@dataclass(frozen=True)
class Decision:
    file: bool  # store the message (body and media) in the client's file, kind client
    refusal: Refusal | None = None
    keyword: Keyword | None = None
    opt_change: OptChange | None = None
    opt_source: OptSource | None = None
    inquiry: InquiryStep = InquiryStep.NONE
    clock_holder: str | None = None  # who holds the clock of an opened inquiry
    due_at: datetime | None = None
    score: int | None = None
    reply: Reply | None = None
    reply_period: str | None = None  # new last_auto_reply_period when an automatic reply is due
    client_changes: Mapping[str, object] = field(default_factory=dict)
    crisis: bool = False  # a crisis word (SPEC §5.9), at any hour: the message, its inquiry and the file are marked
    alerts: frozenset[Alert] = frozenset()  # whom the filing tells at once
    answerer: str | None = None  # who answers the file today: the case manager, or the colleague covering
    closed_period: str | None = None  # the closed period it arrived in (its start, ISO); None while open
    ends_inquiry: str | None = None  # the open inquiry an opt-out takes out of the inbox (as ``opted_out``)


def opt_out_changes(client: Client, at: datetime) -> dict[str, object]:
    """What opting out changes on a file, however it was said (a keyword, or Twilio's error 21610).

    No follow-ups any more, and the file leaves the inbox: nobody may answer a client who opted
    out, so a waiting clock would only run into a breach no one could prevent.
    """
    changes: dict[str, object] = {"opted_out": True, "opted_out_at": at, "followup_agency": None}
    if client.open_inquiry_id is not None:
        changes.update(open_inquiry_id=None, open_inquiry_due_at=None, open_inquiry_opened_at=None,
                       crisis_at=None)
    return changes


def refusal_of(client: Client | None, channel: Channel) -> Refusal | None:
    """Why a message from this file on this channel may not be filed, or None when it may."""
    if client is None:
        return Refusal.NO_FILE
    if client.erased_at is not None:
        return Refusal.FILE_ERASED
    if client.status is ClientStatus.CLOSED:
        return Refusal.FILE_CLOSED
    if client.status is ClientStatus.SUSPENDED:
        return Refusal.FILE_SUSPENDED
    if not client.consent.covers(channel):
        if client.consent.state is ConsentState.WITHDRAWN:
            return Refusal.CONSENT_WITHDRAWN
        return Refusal.NO_CONSENT
    if client.opted_out:
        return Refusal.OPTED_OUT
    return None


def _language(policy: Policy, state: FileState | None) -> str:
    if state is not None and state.client.language:
        return state.client.language
    return policy.languages[0] if policy.languages else "en"


def _next_open_text(policy: Policy, at: datetime, language: str) -> str:
    opening = policy.calendar.clock_start(at)
    return format_next_open(opening, policy.timezone, language, now=at)


def _reply(kind: ReplyKind, template: str, policy: Policy, language: str, **values: str) -> Reply:
    return Reply(kind=kind, template=template, body=policy.render(template, language, **values))


def decide(
    arrival: Arrival,
    state: FileState | None,
    policy: Policy,
    *,
    cover: Cover | None = None,
    survey_window: timedelta | None = None,
) -> Decision:
    """What to file, change and reply for one inbound message (see the module docstring)."""
    keyword, source = classify_keyword(arrival.body, arrival.opt_out_type)
    if keyword is None and is_policy_stop_word(arrival.body, policy):
        keyword, source = Keyword.STOP, OptSource.KEYWORD
    client = state.client if state is not None else None
    language = _language(policy, state)
    whatsapp = arrival.channel is Channel.WHATSAPP
    refusal = refusal_of(client, arrival.channel)

    if client is None or refusal is Refusal.FILE_ERASED:
        if keyword is Keyword.STOP:
            return Decision(file=False, refusal=refusal, keyword=keyword)
        template = "help" if keyword is Keyword.HELP else "intake"
        return Decision(
            file=False, refusal=refusal, keyword=keyword,
            reply=_reply(ReplyKind.INTAKE, template, policy, language),
        )

    gate_without_opt_out = refusal_of(_not_opted_out(client), arrival.channel)
    consented = gate_without_opt_out is None

    if keyword is Keyword.STOP:
        if client.opted_out:  # already recorded: nothing new, nothing filed, nothing sent
            return Decision(file=False, refusal=Refusal.OPTED_OUT, keyword=keyword)
        changes = opt_out_changes(client, arrival.at)
        if consented:
            changes["last_inbound_at"] = arrival.at
        reply = None
        if whatsapp:
            reply = _reply(ReplyKind.AUTO_REPLY if consented else ReplyKind.INTAKE, "opted_out", policy, language)
        return Decision(
            file=consented, refusal=None if consented else gate_without_opt_out, keyword=keyword,
            opt_change=OptChange.OPT_OUT, opt_source=source, reply=reply, client_changes=changes,
            ends_inquiry=client.open_inquiry_id,
        )

    if keyword is Keyword.START and client.opted_out:
        if not consented:
            return Decision(
                file=False, refusal=gate_without_opt_out, keyword=keyword,
                reply=_reply(ReplyKind.INTAKE, "intake", policy, language),
            )
        changes = {"opted_out": False, "opted_out_at": None, "followup_agency": client.agency_id,
                   "last_inbound_at": arrival.at}
        reply = _reply(ReplyKind.AUTO_REPLY, "opted_in", policy, language) if whatsapp else None
        return Decision(
            file=True, keyword=keyword, opt_change=OptChange.OPT_IN, opt_source=source,
            reply=reply, client_changes=changes,
        )

    if refusal is not None:
        if refusal is Refusal.OPTED_OUT:
            reply = _reply(ReplyKind.INTAKE, "opted_out", policy, language) if whatsapp else None
        elif keyword is Keyword.HELP:
            reply = _reply(ReplyKind.INTAKE, "help", policy, language)
        elif refusal in (Refusal.FILE_CLOSED, Refusal.FILE_SUSPENDED):
            # They have a file: asking them to come and open one would be wrong (SPEC §5.3).
            reply = _reply(ReplyKind.INTAKE, "service_ended", policy, language)
        else:
            reply = _reply(ReplyKind.INTAKE, "intake", policy, language)
        return Decision(file=False, refusal=refusal, keyword=keyword, reply=reply)

    # Consented, active, not opted out: the message is filed.
    changes = {"last_inbound_at": arrival.at}
    if keyword is Keyword.HELP:
        return Decision(
            file=True, keyword=keyword, reply=_reply(ReplyKind.AUTO_REPLY, "help", policy, language),
            client_changes=changes,
        )

    window = survey_window if survey_window is not None else policy.survey_reply_window
    score = parse_score(arrival.body) if arrival.num_media == 0 else None
    if score is not None and _survey_open(state, arrival.at, window):
        changes["last_survey_scored_at"] = arrival.at
        return Decision(
            file=True, score=score, reply=_reply(ReplyKind.AUTO_REPLY, "survey_thanks", policy, language),
            client_changes=changes,
        )

    if arrival.empty:
        # Filed (nothing a client sends is dropped), but there is nothing to answer: no clock, no reply.
        return Decision(file=True, client_changes=changes)

    closed_since = policy.calendar.closed_period_start(arrival.at)
    crisis = has_crisis_word(arrival.body, policy)
    answerer = cover.staff_id if cover is not None else client.case_manager_id

    if client.open_inquiry_id:
        step, holder, due = InquiryStep.JOIN, None, None
    else:
        step = InquiryStep.OPEN
        holder = answerer
        due = response_deadline(arrival.at, policy.calendar, policy.response_target, policy.clock)
    alerts = _alerts(arrival, client, closed_since, crisis, cover, step)
    if crisis and client.crisis_at is None:
        changes["crisis_at"] = arrival.at  # first in the inbox, until the inquiry is answered

    if crisis and closed_since is not None:
        # The emergency line first, every time; it also stands for this closed period's reply.
        reply = _reply(ReplyKind.AUTO_REPLY, "crisis", policy, language,
                       next_open=_next_open_text(policy, arrival.at, policy.template_language("crisis", language)))
        period: str | None = closed_since.isoformat()
    else:
        reply, period = _automatic_reply(arrival, state, policy, language, cover)
    if period is not None:
        changes["last_auto_reply_period"] = period
    return Decision(
        file=True, inquiry=step, clock_holder=holder, due_at=due, reply=reply, reply_period=period,
        client_changes=changes, crisis=crisis, alerts=alerts, answerer=answerer,
        closed_period=closed_since.isoformat() if closed_since is not None else None,
    )


def _alerts(arrival: Arrival, client: Client, closed_since: datetime | None, crisis: bool, cover: Cover | None,
            step: InquiryStep) -> frozenset[Alert]:
    """Whom this message tells at once (rule 5). While open, a file already in crisis is not
    announced again: its first crisis message told everyone, and it stays first in the inbox."""
    alerts: set[Alert] = set()
    if crisis:
        if closed_since is not None:
            alerts.add(Alert.CRISIS_ON_CALL)
        elif client.crisis_at is None:
            alerts.add(Alert.CRISIS_OPEN)
    if closed_since is not None and is_voice_note(arrival.media_types):
        alerts.add(Alert.VOICE_NOTE)
    if cover is not None and step is InquiryStep.OPEN:
        alerts.add(Alert.NEW_FOR_COVER)
    return frozenset(alerts)


def _not_opted_out(client: Client) -> Client:
    return replace(client, opted_out=False) if client.opted_out else client


def _survey_open(state: FileState | None, at: datetime, window: timedelta) -> bool:
    if state is None or state.last_survey_at is None:
        return False
    sent = state.last_survey_at
    if not (sent <= at <= sent + window):
        return False
    return state.last_survey_scored_at is None or state.last_survey_scored_at < sent


def _automatic_reply(
    arrival: Arrival, state: FileState, policy: Policy, language: str, cover: Cover | None
) -> tuple[Reply | None, str | None]:
    """The after-hours or absence reply, once per closed period (or absence key) per client."""
    if cover is not None:
        key = f"absence:{cover.reply_key}"
        if state.last_auto_reply_period == key:
            return None, None
        reply = _reply(
            ReplyKind.AUTO_REPLY, "absence", policy, language,
            case_manager=cover.case_manager_name, cover_name=cover.cover_name,
            next_open=_next_open_text(policy, arrival.at, policy.template_language("absence", language)),
        )
        return reply, key
    closed_since = policy.calendar.closed_period_start(arrival.at)
    if closed_since is None:
        return None, None
    key = closed_since.isoformat()
    if state.last_auto_reply_period == key:
        return None, None
    reply = _reply(
        ReplyKind.AUTO_REPLY, "after_hours", policy, language,
        next_open=_next_open_text(policy, arrival.at, policy.template_language("after_hours", language)),
    )
    return reply, key


__all__ = [
    "Alert",
    "Arrival",
    "Cover",
    "CoverLookup",
    "Decision",
    "FileState",
    "InquiryStep",
    "Keyword",
    "OptChange",
    "OptSource",
    "Refusal",
    "Reply",
    "ReplyKind",
    "classify_keyword",
    "decide",
    "has_crisis_word",
    "is_policy_stop_word",
    "no_cover",
    "parse_score",
    "refusal_of",
    "sender_key",
]
