"""A crisis at any hour (SPEC §5.9, issue 23), as ``domain.inbound.decide`` rules it: plain values.

While open, a crisis word marks the message, its inquiry and the file (``crisis_at``: first in the
inbox) and tells whoever answers the file and the supervisors (``Alert.CRISIS_OPEN``), once per
crisis; while closed, the on-call person, with the emergency line first in the reply, as before. A
voice note received while closed tells the on-call person it waits; a client of an absent worker
who opens an inquiry tells the colleague covering.
"""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.audit import AuditType
from chalicelib.domain.crisis import crisis_recipients, is_voice_note
from chalicelib.domain.inbound import Alert, Arrival, Cover, FileState, InquiryStep, ReplyKind
from chalicelib.domain.inbound import decide as rules_decide
from chalicelib.domain.model import Channel
from tests.unit.test_filing_plan import plan, types
from tests.unit.test_inbound_rules import CALGARY, MONDAY_10, a_client, local

WORDS = "he will kill me tonight, I am not safe at home"
MONDAY_20 = local("2026-11-23T20:00")
COVER = Cover(staff_id="jean", case_manager_name="Amal", cover_name="Jean", reply_key="leave-1:2026-11-23")


def decide_for(body: str, client, at, *, cover=None, media_types=()):
    arrival = Arrival(Channel.WHATSAPP, body, at, None, len(media_types), media_types=tuple(media_types))
    return rules_decide(arrival, FileState(client), CALGARY, cover=cover)


def test_a_crisis_word_while_open_marks_message_inquiry_and_file_and_alerts_the_answerer_and_supervisors():
    assert CALGARY.calendar.is_open(MONDAY_10)

    decision, p = plan(WORDS, a_client(language="en"), at=MONDAY_10)

    assert decision.crisis and decision.alerts == {Alert.CRISIS_OPEN}
    assert decision.answerer == "amal" and decision.closed_period is None
    assert decision.reply is None and p.reply_text is None  # open: the worker answers, no automatic reply
    assert decision.client_changes["crisis_at"] == MONDAY_10  # first in the inbox from now
    inquiry = p.filing.open_inquiry
    assert inquiry is not None and inquiry.crisis
    assert inquiry.due_at == local("2026-11-24T10:00")  # the ordinary 24-hour clock
    assert p.message is not None and p.message.crisis
    assert types(p.filing) == [AuditType.INQUIRY_OPENED, AuditType.MESSAGE_FILED]


def test_a_file_already_in_crisis_is_not_announced_again_while_open():
    already = a_client(language="en", open_inquiry_id="inq_1", crisis_at=local("2026-11-23T09:30"))

    decision = decide_for("please, he will kill me", already, MONDAY_10)

    assert decision.crisis and decision.inquiry is InquiryStep.JOIN
    assert Alert.CRISIS_OPEN not in decision.alerts
    assert "crisis_at" not in decision.client_changes  # the first moment stays


def test_the_same_words_while_closed_are_answered_with_the_emergency_line_and_alert_the_on_call_person():
    assert not CALGARY.calendar.is_open(MONDAY_20)

    decision, p = plan(WORDS, a_client(language="en"), at=MONDAY_20)

    assert decision.crisis and decision.alerts == {Alert.CRISIS_ON_CALL}
    assert decision.closed_period == "2026-11-23T23:00:00+00:00"  # the closure began at 17:00 (UTC-6)
    assert decision.reply is not None and (decision.reply.kind, decision.reply.template) == (ReplyKind.AUTO_REPLY,
                                                                                             "crisis")
    assert p.reply_text is not None and "call 911 now" in p.reply_text.split(".")[0]
    assert p.filing.open_inquiry is not None and p.filing.open_inquiry.crisis
    assert decision.client_changes["crisis_at"] == MONDAY_20  # first in the inbox at the opening


def test_an_ordinary_message_is_no_crisis_at_any_hour():
    for at in (MONDAY_10, MONDAY_20):
        decision = decide_for("When is my appointment?", a_client(language="en"), at)
        assert not decision.crisis and decision.alerts == frozenset()
        assert "crisis_at" not in decision.client_changes


def test_while_the_case_manager_is_away_the_colleague_covering_answers_and_is_told():
    decision = decide_for(WORDS, a_client(language="en"), MONDAY_10, cover=COVER)

    assert decision.answerer == "jean" and decision.clock_holder == "jean"
    assert decision.alerts == {Alert.CRISIS_OPEN, Alert.NEW_FOR_COVER}
    plain = decide_for("a question", a_client(language="en"), MONDAY_10, cover=COVER)
    assert plain.alerts == {Alert.NEW_FOR_COVER}
    joined = decide_for("a question", a_client(language="en", open_inquiry_id="inq_1"), MONDAY_10, cover=COVER)
    assert joined.alerts == frozenset()  # the inquiry was already theirs to answer


def test_a_voice_note_while_closed_tells_the_on_call_person_and_while_open_nobody():
    closed = decide_for("", a_client(), MONDAY_20, media_types=["audio/ogg"])
    assert closed.alerts == {Alert.VOICE_NOTE} and not closed.crisis
    assert decide_for("", a_client(), MONDAY_10, media_types=["audio/ogg"]).alerts == frozenset()
    photo = decide_for("", a_client(), MONDAY_20, media_types=["image/jpeg"])
    assert photo.alerts == frozenset()


def test_a_voice_note_is_any_audio_item():
    assert is_voice_note(["image/png", "audio/ogg; codecs=opus"])
    assert is_voice_note([" AUDIO/AMR"])
    assert not is_voice_note(["image/jpeg", "application/pdf"]) and not is_voice_note([])


def test_crisis_recipients_are_the_answerer_then_the_supervisors_once_each_never_the_marker():
    assert crisis_recipients("amal", ["sup-z", "sup-a"]) == ["amal", "sup-a", "sup-z"]
    assert crisis_recipients("sup-a", ["sup-a", "sup-b"]) == ["sup-a", "sup-b"]
    assert crisis_recipients("amal", ["sup-a"], actor="amal") == ["sup-a"]
    assert crisis_recipients("jean", [], actor="amal") == ["jean"]


def test_the_crisis_mark_goes_with_the_inquiry_an_opt_out_ends():
    client = replace(a_client(language="en", open_inquiry_id="inq_1"), crisis_at=MONDAY_10)

    decision = decide_for("STOP", client, MONDAY_10)

    assert decision.client_changes["crisis_at"] is None and decision.client_changes["open_inquiry_id"] is None
