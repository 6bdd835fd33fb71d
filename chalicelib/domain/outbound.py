"""Staff messages and their boundaries (SPEC §5.2, §5.4), as pure decisions.

* When may a staff message go out? Inside business hours at once; outside them it is held until
  the next opening, unless the worker gives an override reason (an emergency): then it goes now
  and the override is recorded for the supervisors.
* WhatsApp free-form messages only within 24 hours of the client's last *inbound* message;
  outside that window the agency's approved template goes instead, or the message is refused.
* Sending is retried after transient failures with a growing delay, up to the policy's limit.
* A staff message that goes out answers the client's open inquiry: the answer records whether it
  was late and how much business time the client waited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from .business_time import BusinessCalendar
from .inquiry import Inquiry, InquiryStatus
from .model import Channel

__all__ = [
    "MessageStatus",
    "REOPEN_TEMPLATE",
    "SEND_LEASE",
    "WHATSAPP_WINDOW",
    "Answer",
    "SendPlan",
    "StaffMessage",
    "answer_inquiry",
    "breach_due",
    "plan_send",
    "retry_delay",
    "whatsapp_window_open",
]

WHATSAPP_WINDOW = timedelta(hours=24)
#: The policy's WhatsApp template (``whatsapp_templates``) sent when the 24-hour window is closed.
REOPEN_TEMPLATE = "staff_reopen"
#: How long a claimed message may stay ``sending`` before the sweep treats the attempt as lost.
SEND_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)


class MessageStatus(enum.Enum):
    HELD = "held"  # waiting for the next opening
    QUEUED = "queued"  # a transient failure: waiting for the next attempt
    SENDING = "sending"  # claimed by one sender; nobody else may send it
    SENT = "sent"  # Twilio accepted it
    FAILED = "failed"  # Twilio refused it, or attempts ran out

    @property
    def waiting(self) -> bool:
        return self in (MessageStatus.HELD, MessageStatus.QUEUED)

    @classmethod
    def of(cls, value: str) -> MessageStatus:
        """Our status for any stored one: Twilio's later statuses count as sent or failed."""
        try:
            return cls(value)
        except ValueError:
            return cls.FAILED if value in ("undelivered", "failed", "canceled") else cls.SENT


@dataclass(frozen=True)
class StaffMessage:
    """A stored outbound staff message, as the use cases see it."""

    client_id: str
    sk: str
    message_id: str
    agency_id: str
    staff_id: str
    channel: Channel
    body: str
    status: MessageStatus
    at: datetime
    holding: bool = False
    override_reason: str | None = None
    template: str | None = None
    send_at: datetime | None = None
    sent_at: datetime | None = None
    due_at: datetime | None = None
    attempts: int = 0
    error_code: str | None = None
    twilio_sid: str | None = None
    version: int = 1
    kind: str = "staff"  # staff, or an automated kind (followup, checkin, survey) the sweep retries

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


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


def retry_delay(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: 1, 2, 4 ... minutes, at most 1 h."""
    delay = FIRST_RETRY * (2 ** max(0, min(attempts - 1, 12)))
    return min(delay, MAX_RETRY)


@dataclass(frozen=True)
class Answer:
    inquiry_id: str
    answered_at: datetime
    answered_by: str
    late: bool
    business_seconds: int
    holding: bool

    @property
    def business_minutes(self) -> int:
        return self.business_seconds // 60


def answer_inquiry(
    inquiry: Inquiry, at: datetime, by: str, calendar: BusinessCalendar, *, holding: bool
) -> Answer | None:
    """The answer a staff message sent at ``at`` gives ``inquiry``; None if it needs no answer."""
    if not inquiry.awaiting_answer:
        return None
    waited = calendar.business_time_between(inquiry.opened_at, at)
    return Answer(
        inquiry_id=inquiry.inquiry_id,
        answered_at=at,
        answered_by=by,
        late=inquiry.status is InquiryStatus.BREACHED or at > inquiry.due_at,
        business_seconds=int(waited.total_seconds()),
        holding=holding,
    )


def breach_due(inquiry: Inquiry, now: datetime) -> bool:
    """An open inquiry past its due instant is breached (once: only ``open`` ones qualify)."""
    return inquiry.status is InquiryStatus.OPEN and inquiry.due_at <= now
