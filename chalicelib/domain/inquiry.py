"""Inquiries: a client's question and the response clock that runs until staff answer it (SPEC §5.2)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


def past_due(due_at: datetime, at: datetime) -> bool:
    """The one rule for the response clock's edge: ``due_at`` is the last on-time instant.

    An answer at exactly ``due_at`` is on time, and the sweep breaches an inquiry only once the
    clock has gone past it. The answer path and the sweep both ask this function.
    """
    return at > due_at


class InquiryStatus(enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"
    BREACHED = "breached"
    # The client sent STOP (or the carrier said so) while waiting: nobody may answer any more, so
    # the clock stops without a breach and the compliance report counts it apart (issue 22).
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class Inquiry:
    inquiry_id: str
    agency_id: str
    client_id: str
    staff_id: str
    status: InquiryStatus
    opened_at: datetime
    due_at: datetime
    message_count: int = 1
    answered_at: datetime | None = None
    answered_by: str | None = None
    answered_late: bool = False
    complex: bool = False
    breached_at: datetime | None = None
    version: int = 1
    # What §5.2 needs to tell a first response from an answer, and to undo one whose delivery failed.
    first_response_at: datetime | None = None
    first_response_business_seconds: int | None = None
    first_response_late: bool = False
    first_response_message_id: str | None = None
    answer_message_id: str | None = None
    first_due_at: datetime | None = None  # the due_at the inquiry opened with (before any holding reply)
    crisis: bool = False
    ended_at: datetime | None = None  # when it left the inbox without an answer (opted_out)

    @property
    def awaiting_answer(self) -> bool:
        """Open or breached: the client is still waiting for a person to reply."""
        return self.status in (InquiryStatus.OPEN, InquiryStatus.BREACHED)
