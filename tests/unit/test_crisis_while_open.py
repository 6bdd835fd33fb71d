"""A crisis word received while the office is open, as the code decides today (SPEC §5.9).

SPEC §5.9 asks, while open, for the inquiry to be marked ``crisis`` and the case manager (or the
colleague covering) and the supervisors to be notified at once. The code does not do that yet:
``domain.inbound.decide`` sets ``crisis`` only for a message received while closed, so an open-hours
message with a crisis word is filed like any other message (no crisis mark, no on-call alert,
since ``services.inbound`` alerts only on ``decision.crisis``, and no emergency-first reply). This
test pins that behaviour so the change, when it comes, is made on purpose; the closed-hours case
beside it shows the same words do count as a crisis.
"""

from __future__ import annotations

from chalicelib.domain.audit import AuditType
from chalicelib.domain.inbound import InquiryStep, ReplyKind
from tests.unit.test_filing_plan import plan, types
from tests.unit.test_inbound_rules import CALGARY, MONDAY_10, a_client, local

WORDS = "he will kill me tonight, I am not safe at home"


def test_a_crisis_word_while_open_is_filed_as_an_ordinary_message_with_no_crisis_mark_alert_or_reply():
    assert CALGARY.calendar.is_open(MONDAY_10)

    decision, p = plan(WORDS, a_client(language="en"), at=MONDAY_10)

    assert decision.file and decision.inquiry is InquiryStep.OPEN and decision.clock_holder == "amal"
    assert not decision.crisis  # services.inbound alerts no one (it calls on_crisis only when this is set)
    assert decision.reply is None and p.reply_text is None  # no emergency line, no automatic reply
    inquiry = p.filing.open_inquiry
    assert inquiry is not None and not inquiry.crisis
    assert inquiry.due_at == local("2026-11-24T10:00")  # the ordinary 24-hour clock
    assert types(p.filing) == [AuditType.INQUIRY_OPENED, AuditType.MESSAGE_FILED]


def test_the_same_words_while_closed_are_a_crisis_answered_with_the_emergency_line_first():
    closed = local("2026-11-23T20:00")
    assert not CALGARY.calendar.is_open(closed)

    decision, p = plan(WORDS, a_client(language="en"), at=closed)

    assert decision.crisis and decision.reply is not None
    assert (decision.reply.kind, decision.reply.template) == (ReplyKind.AUTO_REPLY, "crisis")
    assert p.reply_text is not None and "call 911 now" in p.reply_text.split(".")[0]
    assert p.filing.open_inquiry is not None and p.filing.open_inquiry.crisis
