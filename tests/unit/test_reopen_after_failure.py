"""A staff message whose delivery fails answers nothing (SPEC §5.2): ``reopen_after_failure``.

Each test walks an inquiry through the domain's decisions, applying each one the way
``InquiryRepository.answer`` and ``InquiryRepository.reopen`` write it, so what the next decision
reads is what the table would hold. Calgary, November 2026 (UTC-7); calendar clock, 24 h target.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.inquiry import Inquiry, InquiryStatus
from chalicelib.domain.outbound import Answer, Reopening, answer_inquiry, breach_due, reopen_after_failure
from chalicelib.domain.policy import Policy
from chalicelib.domain.reporting import inquiry_fact
from tests.conftest import ROOT

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY = Policy.from_dict(json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8")))
CAL = CALGARY.calendar


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON).astimezone(UTC)


def opened_monday() -> Inquiry:
    """Fatima writes Mon 16 Nov 10:00: due Tue 10:00."""
    return Inquiry("iq_1", "calgary-cfn", "cl_1", "amal", InquiryStatus.OPEN, local("2026-11-16T10:00"),
                   local("2026-11-17T10:00"))


def breached(inquiry: Inquiry, at: datetime) -> Inquiry:
    assert breach_due(inquiry, at)
    return replace(inquiry, status=InquiryStatus.BREACHED, breached_at=at)


def sent(inquiry: Inquiry, message_id: str, at: str, *, holding: bool = False) -> tuple[Inquiry, Answer | None]:
    """``message_id`` goes out at ``at``: the inquiry as ``InquiryRepository.answer`` leaves it."""
    answer = answer_inquiry(inquiry, local(at), "amal", CAL, holding=holding, message_id=message_id,
                            complex_target=CALGARY.complex_target)
    if answer is None:
        return inquiry, None
    if answer.first_response:
        inquiry = replace(inquiry, first_response_at=answer.answered_at,
                          first_response_business_seconds=answer.business_seconds,
                          first_response_late=answer.late, first_response_message_id=answer.message_id)
    if answer.holding:
        inquiry = replace(inquiry, complex=True, due_at=answer.due_at or inquiry.due_at,
                          first_due_at=inquiry.first_due_at or inquiry.due_at)
    else:
        inquiry = replace(inquiry, status=InquiryStatus.ANSWERED, answered_at=answer.answered_at,
                          answered_by=answer.answered_by, answered_late=answer.late,
                          answer_message_id=answer.message_id)
    return inquiry, answer


def reopened(inquiry: Inquiry, reopening: Reopening) -> Inquiry:
    """The inquiry as ``InquiryRepository.reopen`` leaves it."""
    inquiry = replace(inquiry, status=reopening.status, due_at=reopening.due_at, complex=reopening.complex,
                      first_response_at=reopening.first_response_at,
                      first_response_business_seconds=reopening.first_response_business_seconds,
                      first_response_late=reopening.first_response_late,
                      first_response_message_id=reopening.first_response_message_id)
    if reopening.answer_undone:
        inquiry = replace(inquiry, answered_at=None, answered_by=None, answered_late=False, answer_message_id=None)
    else:
        inquiry = replace(inquiry, answered_late=reopening.answered_late)
    return inquiry


def test_a_failed_late_answer_reopens_a_breached_inquiry_breached_with_its_original_due_time():
    inquiry = breached(opened_monday(), local("2026-11-17T10:05"))
    inquiry, answer = sent(inquiry, "msg_late", "2026-11-17T11:00")
    assert answer is not None and answer.late and inquiry.status is InquiryStatus.ANSWERED

    reopening = reopen_after_failure(inquiry, "msg_late", CAL)

    assert reopening is not None and reopening.answer_undone
    assert (reopening.status, reopening.due_at, reopening.complex) == (
        InquiryStatus.BREACHED, local("2026-11-17T10:00"), False)
    assert (reopening.first_response_at, reopening.first_response_message_id) == (None, None)
    again = reopened(inquiry, reopening)
    assert again.awaiting_answer and again.breached_at == local("2026-11-17T10:05")
    assert not breach_due(again, local("2026-11-18T10:00"))  # breached once: the sweep records no second breach


def test_a_breached_inquiry_is_reopened_once_whichever_failure_comes_first():
    inquiry = breached(opened_monday(), local("2026-11-17T10:05"))
    inquiry, _ = sent(inquiry, "msg_answer", "2026-11-17T11:00")
    inquiry, extra = sent(inquiry, "msg_more", "2026-11-17T11:05")  # a second message: it answers nothing
    assert extra is None

    # The message that counted for nothing fails first: nothing to take back.
    assert reopen_after_failure(inquiry, "msg_more", CAL) is None
    reopening = reopen_after_failure(inquiry, "msg_answer", CAL)
    assert reopening is not None
    inquiry = reopened(inquiry, reopening)
    # Twilio reports "failed", then "undelivered" for the same message; and the other one fails late.
    assert reopen_after_failure(inquiry, "msg_answer", CAL) is None
    assert reopen_after_failure(inquiry, "msg_more", CAL) is None
    assert inquiry.status is InquiryStatus.BREACHED and inquiry.due_at == local("2026-11-17T10:00")


def test_a_late_failure_never_takes_back_a_later_answer_that_arrived():
    inquiry = breached(opened_monday(), local("2026-11-17T10:05"))
    inquiry, _ = sent(inquiry, "msg_lost", "2026-11-17T11:00")
    inquiry = reopened(inquiry, reopen_after_failure(inquiry, "msg_lost", CAL))
    inquiry, answer = sent(inquiry, "msg_call_back", "2026-11-17T14:00")
    assert answer is not None and inquiry.status is InquiryStatus.ANSWERED

    assert reopen_after_failure(inquiry, "msg_lost", CAL) is None
    assert inquiry.answer_message_id == "msg_call_back" and inquiry.first_response_message_id == "msg_call_back"


def test_a_failed_holding_reply_takes_its_longer_clock_back_to_the_original_due_time():
    inquiry, answer = sent(opened_monday(), "msg_hold", "2026-11-16T11:30", holding=True)
    # 11:30 + P5D falls on a Saturday: due at Monday's opening, a week later.
    assert answer is not None and (inquiry.status, inquiry.complex) == (InquiryStatus.OPEN, True)
    assert (inquiry.due_at, inquiry.first_due_at) == (local("2026-11-23T09:00"), local("2026-11-17T10:00"))

    reopening = reopen_after_failure(inquiry, "msg_hold", CAL)

    assert reopening is not None and not reopening.answer_undone
    assert (reopening.status, reopening.due_at, reopening.complex) == (
        InquiryStatus.OPEN, local("2026-11-17T10:00"), False)
    assert (reopening.first_response_at, reopening.first_response_message_id) == (None, None)
    inquiry = reopened(inquiry, reopening)
    assert breach_due(inquiry, local("2026-11-17T10:01"))  # the original clock runs again
    assert reopen_after_failure(inquiry, "msg_hold", CAL) is None


def test_a_failed_holding_reply_of_an_inquiry_answered_since_leaves_the_answer_as_its_first_response():
    inquiry, _ = sent(opened_monday(), "msg_hold", "2026-11-16T11:30", holding=True)
    inquiry, answer = sent(inquiry, "msg_answer", "2026-11-18T15:00")
    assert answer is not None and not answer.first_response

    reopening = reopen_after_failure(inquiry, "msg_hold", CAL)

    assert reopening is not None and not reopening.answer_undone
    assert (reopening.status, reopening.due_at, reopening.complex) == (
        InquiryStatus.ANSWERED, local("2026-11-17T10:00"), False)
    assert (reopening.first_response_at, reopening.first_response_message_id) == (
        local("2026-11-18T15:00"), "msg_answer")


def test_once_a_holding_reply_failed_an_answer_after_the_original_due_time_counts_late():
    inquiry, _ = sent(opened_monday(), "msg_hold", "2026-11-16T11:30", holding=True)
    inquiry, _ = sent(inquiry, "msg_answer", "2026-11-18T15:00")  # after Tue 10:00, before Mon 23 09:00

    reopening = reopen_after_failure(inquiry, "msg_hold", CAL)

    assert reopening is not None and reopening.due_at == local("2026-11-17T10:00")
    assert reopening.first_response_late and reopening.answered_late
    assert not inquiry_fact(reopened(inquiry, reopening)).answered_on_time  # the compliance report counts it late
