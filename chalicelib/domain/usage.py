"""Funder usage statistics (SPEC §5.6, the DMSI toolkit's Table 7) as days of facts that add up.

Every figure comes from the audit trail, never from the current state of a file, so a report on
last March says what was true in March. The unit is one agency-local day: ``day_facts`` turns the
events of a day into a ``UsageDay``, ``combine`` adds days into the figures of a period. Days that
are over are rolled up once (``services/usage_rollup.py``) and read back as one item each, so a
report costs one read per day of the period whatever the caseload or message volume; the days not
rolled up yet (today, yesterday) are counted from their raw events.

Definitions (a period is agency-local days, inclusive):

* ``active_clients``: files that at the end of the period have consent on record, are not opted
  out, are neither suspended nor closed and are not erased. Kept as a running count: each day's
  roll-up stores the members at its end, the previous day's figure plus the files whose membership
  changed that day (``member_at`` replays one file's own audit events).
* ``new_clients``: files whose consent was first given in the period (``consent.given`` with
  ``first``; consent given again after a withdrawal is not new).
* ``clients_left``: files that ended at the client's request: consent withdrawn or opted out
  (STOP, or Twilio's opt-out error). A closure because the case is complete is neither left nor
  removed.
* ``clients_removed``: files suspended or closed under the conduct policy (``conduct: true``).
  A client who both left and was removed in a period counts as removed only.
* ``participants``: distinct clients who sent at least one filed message (keywords included: a
  STOP is a filed message too).
* ``inquiries``: inquiries opened. ``inquiries_answered``: inquiries answered as §5.2 defines it:
  holding replies never answer, and an answer whose message then failed (``inquiry.reopened``
  with ``answer_undone``) is taken back.
* ``messages_in``: client messages filed, keyword messages (STOP, START, HELP) left out.
  ``messages_out``: staff messages that reached the client: sent at once, or released after being
  held (counted on the day they went out); a message whose delivery failed never counts.
* ``automatic_messages``: automatic replies (after-hours, keyword answers, survey thanks),
  follow-ups, check-ins, surveys and conduct notices sent. A follow-up, check-in, survey or notice
  is sent once Twilio accepted it (``followup.sent``, ``notice.sent``, written with that answer); one
  Twilio refused, or not sent for want of an approved WhatsApp template, never counts.
  ``private_messages`` = ``messages_in`` + ``messages_out``.
* ``posts``: information posts of which at least one copy went out (each post once, whatever its
  number of recipients). ``referrals``: referrals recorded.
* ``followups``: follow-ups and monthly check-ins Twilio accepted (surveys are counted in
  ``automatic_messages`` and answered in ``survey_responses``). ``survey_responses`` and
  ``survey_mean_score``: survey replies of 1 to 5 recorded, and their mean (two decimals; null
  when there are none).
* ``calls`` and ``call_minutes`` (SPEC §5.10): calls placed to or received from clients on work
  numbers, and the minutes they lasted (each ended call's duration, in minutes to one decimal).

A failure or an undone answer is looked for in the day's events and in ``SETTLE`` after the day
(the roll-up waits that long before it counts a day), which covers Twilio's delivery reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from .audit import AuditType
from .reporting import AuditRecord

#: How long after a day ends its roll-up waits, so late delivery failures are taken into account.
SETTLE = timedelta(hours=6)

#: The statistics in the toolkit's order, with its labels (Table 7) where it has one.
TABLE7_ROWS: tuple[tuple[str, str], ...] = (
    ("active_clients", "Total number of users"),
    ("new_clients", "Number of new users who joined"),
    ("clients_left", "Number of users who left the group"),
    ("clients_removed", "Number of users removed by the moderator, based on community guidelines"),
    ("inquiries_answered", "Number of questions answered (excluding private messages)"),
    ("participants", "Number of group/ community participants"),
    ("private_messages", "Number of private messages"),
    ("posts", "Number of posts (e.g., job postings, workshops, information)"),
    ("inquiries", "Number of questions asked"),
    ("messages_in", "Number of private messages from clients"),
    ("messages_out", "Number of private messages from staff that reached the client"),
    ("automatic_messages", "Number of automatic messages sent"),
    ("referrals", "Number of referrals to other agencies or services"),
    ("followups", "Number of follow-ups and check-ins sent"),
    ("survey_responses", "Number of satisfaction survey responses"),
    ("survey_mean_score", "Mean satisfaction score (1 to 5)"),
    ("calls", "Number of phone calls with clients on work numbers"),
    ("call_minutes", "Minutes of phone calls with clients on work numbers"),
)

USAGE_FIELDS: tuple[str, ...] = (
    "active_clients",
    "new_clients",
    "clients_left",
    "clients_removed",
    "participants",
    "inquiries",
    "inquiries_answered",
    "messages_in",
    "messages_out",
    "automatic_messages",
    "private_messages",
    "posts",
    "referrals",
    "followups",
    "survey_responses",
    "survey_mean_score",
    "calls",
    "call_minutes",
)

MEMBERSHIP_TYPES = frozenset(t.value for t in (
    AuditType.CONSENT_GIVEN, AuditType.CONSENT_WITHDRAWN, AuditType.OPTED_OUT, AuditType.OPTED_IN,
    AuditType.CLIENT_STATUS, AuditType.CLIENT_ERASED,
))

_COUNTS = ("inquiries", "inquiries_answered", "messages_in", "messages_out", "automatic_messages", "referrals",
           "followups", "survey_responses", "calls", "call_seconds")
_CALLS = frozenset({AuditType.CALL_PLACED.value, AuditType.CALL_RECEIVED.value})
_SETS = ("new", "left", "removed", "participants", "posts")
_SENT = frozenset({AuditType.STAFF_MESSAGE_SENT.value, AuditType.STAFF_MESSAGE_RELEASED.value})
_FAILED = AuditType.STAFF_MESSAGE_FAILED.value
_REOPENED = "inquiry.reopened"  # issue 13: the message that answered the inquiry was not delivered
#: Automatic messages that went: auto-replies when filed, follow-ups and notices once Twilio accepted them.
_AUTOMATIC_SENT = frozenset(t.value for t in (AuditType.AUTO_REPLY_SENT, AuditType.FOLLOWUP_SENT,
                                              AuditType.NOTICE_SENT))


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --- membership of one file --------------------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    """What the audit trail says about one file at some instant."""

    consent: bool = False
    opted_out: bool = False
    status: str = "active"
    erased: bool = False

    @property
    def member(self) -> bool:
        return self.consent and not self.opted_out and self.status == "active" and not self.erased

    def after(self, event: AuditRecord) -> Membership:
        kind = event.type
        if kind == AuditType.CONSENT_GIVEN.value:
            return replace(self, consent=True)
        if kind == AuditType.CONSENT_WITHDRAWN.value:
            return replace(self, consent=False)
        if kind == AuditType.OPTED_OUT.value:
            return replace(self, opted_out=True)
        if kind == AuditType.OPTED_IN.value:
            return replace(self, opted_out=False)
        if kind == AuditType.CLIENT_STATUS.value:
            return replace(self, status=str(event.details.get("status") or self.status))
        if kind == AuditType.CLIENT_ERASED.value:
            return replace(self, erased=True)
        return self


def member_at(history: Iterable[AuditRecord], at: datetime) -> bool:
    """Whether the file was a member (counted in ``active_clients``) just before ``at``."""
    state = Membership()
    for event in sorted(history, key=lambda e: (e.at, e.event_id)):
        if event.at >= at:
            break
        state = state.after(event)
    return state.member


def membership_delta(histories: Mapping[str, Sequence[AuditRecord]], start: datetime, end: datetime) -> int:
    """How many members the files gained (or lost, negative) between ``start`` and ``end``."""
    return sum(int(member_at(h, end)) - int(member_at(h, start)) for h in histories.values())


def touched_clients(events: Iterable[AuditRecord]) -> set[str]:
    """Files whose membership may have changed in these events."""
    return {e.client_id for e in events if e.client_id and e.type in MEMBERSHIP_TYPES}


# --- one day -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDay:
    """The facts of one agency-local day; sets hold ids so that a period counts each once."""

    day: date
    active_end: int | None = None  # members at the end of the day; None where not worked out
    new: frozenset[str] = frozenset()
    left: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    participants: frozenset[str] = frozenset()
    posts: frozenset[str] = frozenset()
    inquiries: int = 0
    inquiries_answered: int = 0
    messages_in: int = 0
    messages_out: int = 0
    automatic_messages: int = 0
    referrals: int = 0
    followups: int = 0
    survey_responses: int = 0
    survey_score_sum: float = 0.0
    calls: int = 0
    call_seconds: int = 0

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {name: getattr(self, name) for name in _COUNTS}
        item.update({name: sorted(getattr(self, name)) for name in _SETS})
        item["survey_score_sum"] = self.survey_score_sum
        item["active_end"] = self.active_end
        return item

    @classmethod
    def from_item(cls, day: date, item: Mapping[str, Any]) -> UsageDay:
        active = item.get("active_end")
        return cls(
            day=day,
            active_end=int(active) if active is not None else None,
            survey_score_sum=float(item.get("survey_score_sum") or 0),
            **{name: int(item.get(name) or 0) for name in _COUNTS},
            **{name: frozenset(item.get(name) or ()) for name in _SETS},
        )


def _message_id(event: AuditRecord) -> str:
    return str(event.details.get("message_id") or event.event_id)


def day_facts(day: date, events: Iterable[AuditRecord], start: datetime, end: datetime) -> UsageDay:
    """The usage facts of ``day`` (``[start, end)`` in UTC) from its events.

    ``events`` may run on past ``end`` (up to ``SETTLE`` later): those are only looked at for
    failures of the day's messages and answers taken back, never counted themselves.
    """
    ordered = sorted(events, key=lambda e: (e.at, e.event_id))
    failed = {_message_id(e) for e in ordered if e.type == _FAILED}
    sets: dict[str, set[str]] = {name: set() for name in _SETS}
    counts = dict.fromkeys(_COUNTS, 0)
    sent: set[str] = set()
    answered: dict[str, bool] = {}  # inquiry -> still answered by an answer given this day
    score_sum = 0.0
    for event in ordered:
        details = event.details
        inside = start <= event.at < end
        if event.type == _REOPENED and truthy(details.get("answer_undone")):
            inquiry = str(details.get("inquiry_id") or "")
            if inquiry in answered:
                answered[inquiry] = False
            continue
        if not inside:
            continue
        kind = event.type
        client = event.client_id
        if kind == AuditType.CONSENT_GIVEN.value:
            if client and truthy(details.get("first", True)):
                sets["new"].add(client)
        elif kind in (AuditType.CONSENT_WITHDRAWN.value, AuditType.OPTED_OUT.value):
            if client:
                sets["left"].add(client)
        elif kind == AuditType.CLIENT_STATUS.value:
            if client and truthy(details.get("conduct")) and details.get("status") in ("suspended", "closed"):
                sets["removed"].add(client)
        elif kind == AuditType.INQUIRY_OPENED.value:
            counts["inquiries"] += 1
        elif kind == AuditType.INQUIRY_ANSWERED.value:
            # An answer whose send failed is taken back whatever the order of the two events (a
            # failure reported in the same instant as the answer sorts either side of it).
            if not truthy(details.get("holding")) and _message_id(event) not in failed:
                answered[str(details.get("inquiry_id") or event.event_id)] = True
        elif kind == AuditType.MESSAGE_FILED.value:
            direction = details.get("direction")
            message_kind = details.get("kind") or "client"
            if direction == "inbound":
                if client:
                    sets["participants"].add(client)
                if message_kind == "client" and not details.get("keyword"):
                    counts["messages_in"] += 1
            elif direction == "outbound" and message_kind == "post" and details.get("post_id"):
                if _message_id(event) not in failed:
                    sets["posts"].add(str(details["post_id"]))
        elif kind in _SENT:
            sent.add(_message_id(event))
        elif kind in _AUTOMATIC_SENT:
            counts["automatic_messages"] += 1
            if kind == AuditType.FOLLOWUP_SENT.value and details.get("kind") in ("followup", "checkin"):
                counts["followups"] += 1
        elif kind == "referral.recorded":
            counts["referrals"] += 1
        elif kind in _CALLS:
            counts["calls"] += 1
        elif kind == AuditType.CALL_ENDED.value:
            seconds = details.get("duration_seconds")
            if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
                counts["call_seconds"] += int(seconds)
        elif kind == AuditType.SURVEY_SCORED.value:
            score = details.get("score")
            if isinstance(score, (int, float)) and not isinstance(score, bool):
                counts["survey_responses"] += 1
                score_sum += float(score)
    counts["messages_out"] = len(sent - failed)
    counts["inquiries_answered"] = sum(answered.values())
    return UsageDay(day=day, survey_score_sum=score_sum, **counts,
                    **{name: frozenset(values) for name, values in sets.items()})


# --- a period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageFigures:
    active_clients: int = 0
    new_clients: int = 0
    clients_left: int = 0
    clients_removed: int = 0
    participants: int = 0
    inquiries: int = 0
    inquiries_answered: int = 0
    messages_in: int = 0
    messages_out: int = 0
    automatic_messages: int = 0
    private_messages: int = 0
    posts: int = 0
    referrals: int = 0
    followups: int = 0
    survey_responses: int = 0
    survey_mean_score: float | None = None
    calls: int = 0
    call_minutes: float = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in USAGE_FIELDS}


def combine(days: Sequence[UsageDay], active_end: int) -> UsageFigures:
    """The figures of a period from its days, oldest first; ``active_end`` is its membership."""
    sets: dict[str, set[str]] = {name: set() for name in _SETS}
    counts = dict.fromkeys(_COUNTS, 0)
    score_sum = 0.0
    for day in days:
        for name in _SETS:
            sets[name] |= getattr(day, name)
        for name in _COUNTS:
            counts[name] += getattr(day, name)
        score_sum += day.survey_score_sum
    left = sets["left"] - sets["removed"]
    responses = counts["survey_responses"]
    return UsageFigures(
        active_clients=active_end,
        new_clients=len(sets["new"]),
        clients_left=len(left),
        clients_removed=len(sets["removed"]),
        participants=len(sets["participants"]),
        inquiries=counts["inquiries"],
        inquiries_answered=counts["inquiries_answered"],
        messages_in=counts["messages_in"],
        messages_out=counts["messages_out"],
        automatic_messages=counts["automatic_messages"],
        private_messages=counts["messages_in"] + counts["messages_out"],
        posts=len(sets["posts"]),
        referrals=counts["referrals"],
        followups=counts["followups"],
        survey_responses=responses,
        survey_mean_score=round(score_sum / responses, 2) if responses else None,
        calls=counts["calls"],
        call_minutes=round(counts["call_seconds"] / 60, 1),
    )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
