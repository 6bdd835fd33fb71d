"""Pure rules of calls (issue 25, SPEC §5.10): statuses, what a caller hears, a voicemail's clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.calls import (
    CallStatus,
    call_status_advances,
    closed_answer,
    duration_of,
    intake_answer,
    ring_answer,
    say_voice,
    voicemail_answer,
    voicemail_clock,
)
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.messages import MediaRef
from chalicelib.domain.model import Channel, Client, ClientStatus
from chalicelib.domain.policy import Policy
from chalicelib.services.calls import CallProgress, PlaceCall, RecordingForm
from tests.conftest import ROOT

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY = Policy.from_dict(json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8")))
CALL = "CA" + "a" * 32
RECORDING = "RE" + "b" * 32


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON).astimezone(UTC)


def client(**changes: object) -> Client:
    base = Client("cl_1", "calgary-cfn", "amal", "+15875550123", Channel.WHATSAPP, "ar", "Fatima",
                  ClientStatus.ACTIVE, local("2026-12-01T10:00"))
    return base if not changes else Client(**{**base.__dict__, **changes})


@pytest.mark.parametrize(("twilio", "ours"), [("initiated", CallStatus.QUEUED), ("in-progress", CallStatus.IN_PROGRESS),
                                              ("no-answer", CallStatus.NO_ANSWER), ("answered", CallStatus.IN_PROGRESS),
                                              ("completed", CallStatus.COMPLETED), ("whatever", None)])
def test_twilio_call_words_read_as_ours(twilio: str, ours: CallStatus | None) -> None:
    assert CallStatus.of(twilio) is ours


def test_a_call_status_only_moves_forward_and_an_ended_call_stays_ended() -> None:
    assert call_status_advances(None, CallStatus.QUEUED)
    assert call_status_advances("queued", CallStatus.RINGING)
    assert call_status_advances("ringing", CallStatus.NO_ANSWER)
    assert not call_status_advances("in_progress", CallStatus.RINGING)
    assert not call_status_advances("ringing", CallStatus.RINGING)
    assert not call_status_advances("completed", CallStatus.FAILED)
    assert not call_status_advances("no_answer", CallStatus.COMPLETED)


def test_durations_are_whole_seconds_or_nothing() -> None:
    assert duration_of("61") == 61
    assert duration_of("") is None and duration_of("-3") is None and duration_of("1e9") is None


def test_a_caller_while_closed_hears_the_emergency_line_first_then_after_hours_in_their_language() -> None:
    answer = closed_answer(CALGARY, "ar", local("2026-12-08T20:00"))
    first, after_hours, prompt = answer.said
    assert "911" in first.text and first.language == "ar"
    assert after_hours.text.startswith("شكرًا") and after_hours.language == "ar"
    assert prompt.language == "ar"
    assert answer.record and answer.ring is None


def test_a_language_without_texts_is_answered_in_english() -> None:
    answer = closed_answer(CALGARY, "ti", local("2026-12-08T20:00"))
    assert all(said.language == "en" for said in answer.said)
    assert "Wednesday" in answer.said[1].text or "9:00" in answer.said[1].text
    assert say_voice("ti") == say_voice("en") and say_voice("fr-CA")[0] == "fr-CA"


def test_a_caller_without_a_file_hears_only_the_intake_text_and_is_not_recorded() -> None:
    answer = intake_answer(CALGARY)
    assert [said.text for said in answer.said] == [CALGARY.render("intake", "en")]
    assert not answer.record and answer.ring is None


def test_ringing_shows_the_work_number_and_voicemail_records() -> None:
    ring = ring_answer("+14035550111", "+15873550101")
    assert ring.ring is not None and (ring.ring.phone, ring.ring.caller_id) == ("+14035550111", "+15873550101")
    assert voicemail_answer("fr").record and voicemail_answer("fr").said[0].language == "fr"


def test_a_voicemail_opens_an_inquiry_due_by_the_policys_clock_or_joins_the_open_one() -> None:
    friday_evening = local("2026-12-11T18:00")
    opened = voicemail_clock(client(), CALGARY, friday_evening, holder="jean")
    assert opened.inquiry is not None and opened.inquiry.staff_id == "jean"
    assert opened.inquiry.due_at == local("2026-12-15T09:00")  # starts Monday 9:00, due 24 h later
    assert opened.client_changes["open_inquiry_id"] == opened.inquiry_id
    joined = voicemail_clock(client(open_inquiry_id="inq_1"), CALGARY, friday_evening)
    assert joined.inquiry is None and joined.inquiry_id == "inq_1" and "open_inquiry_id" not in joined.client_changes


def test_a_recording_is_deleted_at_twilio_by_its_recording_sid() -> None:
    ref = MediaRef("audio/mpeg", twilio_url=f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/"
                                            f"{RECORDING}.mp3")
    assert ref.twilio_media_sid == RECORDING


def test_forms_refuse_what_is_not_twilios() -> None:
    with pytest.raises(InvalidInput):
        CallProgress.parse({"CallSid": CALL, "CallStatus": "exploded"})
    with pytest.raises(InvalidInput):
        CallProgress.parse({"CallSid": "CAnope", "CallStatus": "completed"})
    with pytest.raises(InvalidInput):  # a URL that is not the recording's
        RecordingForm.parse({"CallSid": CALL, "RecordingSid": RECORDING, "RecordingUrl": "https://evil.example/x"})
    assert CallProgress.parse({"CallSid": CALL, "DialCallStatus": "no-answer"}, dial=True).dial
    with pytest.raises(InvalidInput):
        PlaceCall.parse({"override_reason": "   "})
    assert PlaceCall.parse(None).override_reason is None
