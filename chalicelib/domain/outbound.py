"""Staff messages and their boundaries (SPEC §5.2, §5.4), as pure decisions.

* When may a staff message go out? Inside business hours at once; outside them it is held until
  the next opening, unless the worker gives an override reason (an emergency): then it goes now
  and the override is recorded for the supervisors.
* WhatsApp free-form messages only within 24 hours of the client's last *inbound* message;
  outside that window the agency's approved template goes instead, or the message is refused.
  Automatic messages (follow-ups, check-ins, surveys, conduct notices, posts) follow one rule,
  ``automatic_template``: free text inside the window, the policy's template of the same name
  outside it, or not sent at all (``NoApprovedTemplate``).
* Sending is retried after transient failures with a growing delay, up to the policy's limit.
* A staff message that goes out answers the client's open inquiry: the answer records whether it
  was late and how much business time the client waited. A holding reply only meets the
  first-response clock (the inquiry stays open, complex, with a longer clock); a held message
  answers only the inquiry that was open when it was written; a message whose delivery fails
  answers nothing (``reopen_after_failure`` undoes what it counted for).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .business_time import BusinessCalendar, ClockMode, response_deadline
from .inquiry import Inquiry, InquiryStatus, past_due
from .model import Channel

__all__ = [
    "WINDOW_CLOSED",
    "NoApprovedTemplate",
    "REOPEN_TEMPLATE",
    "SEND_LEASE",
    "WHATSAPP_WINDOW",
    "Answer",
    "DEFAULT_COMPLEX_TARGET",
    "Reopening",
    "SendPlan",
    "answer_inquiry",
    "automatic_template",
    "breach_due",
    "plan_send",
    "reopen_after_failure",
    "retry_delay",
    "whatsapp_window_open",
]

WHATSAPP_WINDOW = timedelta(hours=24)
#: Why an automatic message outside WhatsApp's window was not sent (no approved template for it).
WINDOW_CLOSED = "whatsapp_window_closed"
#: The policy's WhatsApp template (``whatsapp_templates``) sent when the 24-hour window is closed.
REOPEN_TEMPLATE = "staff_reopen"
#: How long a claimed message may stay ``sending`` before the sweep treats the attempt as lost.
SEND_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
#: How long a complex inquiry has for its real answer after a holding reply (``response.complex_target``).
DEFAULT_COMPLEX_TARGET = timedelta(days=5)


@dataclass(frozen=True)
class SendPlan:
    """When a staff message goes out: now (``send_at`` is now) or held until ``send_at``."""

    send_now: bool
    send_at: datetime
    override: bool = False


def plan_send(now: datetime, calendar: BusinessCalendar, override_reason: str | None) -> SendPlan:
    if calendar.is_open(now):
        return SendPlan(send_now=True, send_at=now)
    if override_reason:
        return SendPlan(send_now=True, send_at=now, override=True)
    return SendPlan(send_now=False, send_at=calendar.next_opening(now))


def whatsapp_window_open(channel: Channel, last_inbound_at: datetime | None, at: datetime) -> bool:
    """Whether a free-form message may go at ``at`` (always on SMS; WhatsApp: 24 h after inbound)."""
    if channel is not Channel.WHATSAPP:
        return True
    return last_inbound_at is not None and at < last_inbound_at + WHATSAPP_WINDOW


class NoApprovedTemplate(Exception):
    """WhatsApp's window is closed and the policy has no approved template for this message."""

    code = WINDOW_CLOSED


def automatic_template(name: str, channel: Channel, last_inbound_at: datetime | None, at: datetime,
                       templates: Mapping[str, object]) -> str | None:
    """How an automatic message called ``name`` may go at ``at`` (SPEC §5.5).

    None: as free text (SMS, or WhatsApp within 24 hours of the client's last message). Outside the
    window: ``name``, the policy's approved template of that name (``whatsapp_templates``), or
    ``NoApprovedTemplate`` when it has none: the message is then not sent at all, never as free text
    that WhatsApp would refuse.
    """
    if whatsapp_window_open(channel, last_inbound_at, at):
        return None
    if name in templates:
        return name
    raise NoApprovedTemplate(name)


def retry_delay(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: 1, 2, 4 ... minutes, at most 1 h."""
    delay = FIRST_RETRY * (2 ** max(0, min(attempts - 1, 12)))
    return min(delay, MAX_RETRY)


@dataclass(frozen=True)
class Answer:
    """What one staff message does to an inquiry's clocks (SPEC §5.2).

    ``holding`` replies only meet the first-response clock: the inquiry stays open, complex, due
    again at ``due_at``. Any other message answers it. ``first_response`` tells whether this
    message is the inquiry's first response (the first-response clock stops at ``answered_at``).
    """

    inquiry_id: str
    answered_at: datetime
    answered_by: str
    late: bool
    business_seconds: int
    holding: bool
    message_id: str | None = None
    first_response: bool = True
    due_at: datetime | None = None  # a holding reply's new due time for the real answer

    @property
    def business_minutes(self) -> int:
        return self.business_seconds // 60

    @property
    def answers(self) -> bool:
        """Whether the inquiry is answered (closed) by this message: never by a holding reply."""
        return not self.holding


def answer_inquiry(
    inquiry: Inquiry,
    at: datetime,
    by: str,
    calendar: BusinessCalendar,
    *,
    holding: bool,
    message_id: str | None = None,
    complex_target: timedelta = DEFAULT_COMPLEX_TARGET,
    clock: ClockMode = ClockMode.CALENDAR,
) -> Answer | None:
    """What a staff message going out at ``at`` does to ``inquiry``; None when it changes nothing.

    A holding reply to an inquiry that already had its first response changes nothing: the
    longer clock is given once, and only a real answer closes the inquiry.
    """
    if not inquiry.awaiting_answer:
        return None
    first = inquiry.first_response_at is None
    if holding and not first:
        return None
    waited = calendar.business_time_between(inquiry.opened_at, at)
    late = inquiry.status is InquiryStatus.BREACHED or past_due(inquiry.due_at, at)
    return Answer(
        inquiry_id=inquiry.inquiry_id,
        answered_at=at,
        answered_by=by,
        late=late,
        business_seconds=int(waited.total_seconds()),
        holding=holding,
        message_id=message_id,
        first_response=first,
        due_at=response_deadline(at, calendar, complex_target, clock) if holding else None,
    )


@dataclass(frozen=True)
class Reopening:
    """How an inquiry reads again once a staff message it counted never reached the client."""

    inquiry_id: str
    status: InquiryStatus
    due_at: datetime
    complex: bool
    answer_undone: bool
    first_response_at: datetime | None
    first_response_business_seconds: int | None
    first_response_late: bool
    first_response_message_id: str | None
    answered_late: bool = False  # of an answer that stands, judged again against the restored clock


def reopen_after_failure(inquiry: Inquiry, message_id: str, calendar: BusinessCalendar) -> Reopening | None:
    """Undo what the failed staff message ``message_id`` did to ``inquiry`` (SPEC §5.2).

    An answer it gave is taken back: the inquiry is open again (breached again if it had breached)
    with the due time it had when answered. A first response it gave is taken back too; a holding
    reply's longer clock goes with it (``due_at`` back to the one the inquiry opened with). A first
    response by another message that still stands is kept. None when the message counted for nothing.
    """
    answer_undone = inquiry.answer_message_id == message_id and inquiry.status is InquiryStatus.ANSWERED
    first_undone = inquiry.first_response_message_id == message_id
    if not (answer_undone or first_undone):
        return None
    status = inquiry.status
    if answer_undone:
        status = InquiryStatus.BREACHED if inquiry.breached_at is not None else InquiryStatus.OPEN
    due_at, complex_ = inquiry.due_at, inquiry.complex
    first_at = inquiry.first_response_at
    first_seconds = inquiry.first_response_business_seconds
    first_late = inquiry.first_response_late
    first_message = inquiry.first_response_message_id
    answered_late = inquiry.answered_late and not answer_undone
    if first_undone:
        if not answer_undone and inquiry.complex:  # it was a holding reply: its longer clock goes too
            due_at, complex_ = inquiry.first_due_at or inquiry.due_at, False
        first_at, first_seconds, first_late, first_message = None, None, False, None
        if not answer_undone and inquiry.status is InquiryStatus.ANSWERED and inquiry.answered_at is not None:
            # Answered by another message that did arrive: that answer is the first response now.
            first_at, first_message = inquiry.answered_at, inquiry.answer_message_id
            first_seconds = int(calendar.business_time_between(inquiry.opened_at, first_at).total_seconds())
            # The answer was judged against the holding reply's longer clock, which never reached
            # the client: judged again against the clock the inquiry is back on.
            answered_late = inquiry.answered_late or past_due(due_at, first_at)
            first_late = answered_late
    return Reopening(
        inquiry_id=inquiry.inquiry_id,
        status=status,
        due_at=due_at,
        complex=complex_,
        answer_undone=answer_undone,
        first_response_at=first_at,
        first_response_business_seconds=first_seconds,
        first_response_late=first_late,
        first_response_message_id=first_message,
        answered_late=answered_late,
    )


def breach_due(inquiry: Inquiry, now: datetime) -> bool:
    """An open inquiry past its due instant is breached (once: only ``open`` ones qualify)."""
    return inquiry.status is InquiryStatus.OPEN and past_due(inquiry.due_at, now)
