"""What happens to one inbound message (pure rules of chalicelib.domain.inbound, SPEC §5.2–5.3)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import inbound as rules
from chalicelib.domain.inbound import Arrival, FileState, InquiryStep, Keyword, OptChange, Refusal, ReplyKind
from chalicelib.domain.messages import status_advances
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState
from chalicelib.domain.policy import Policy
from tests.conftest import ROOT

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY = Policy.from_dict(json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8")))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON)


MONDAY_10 = local("2026-11-23T10:00")
FRIDAY_18 = local("2026-11-27T18:00")


def a_client(**changes: object) -> Client:
    client = Client(
        client_id="cl_1", agency_id="calgary-cfn", case_manager_id="amal", phone="+15875550123",
        channel=Channel.WHATSAPP, language="ar", name="Fatima", status=ClientStatus.ACTIVE,
        created_at=local("2026-11-01T10:00"),
        consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.WHATSAPP})),
    )
    return replace(client, **changes)


def decide(body: str, at: datetime = MONDAY_10, client: Client | None = None, *, channel: Channel = Channel.WHATSAPP,
           state: FileState | None = None, **arrival: object) -> rules.Decision:
    if state is None and client is not None:
        state = FileState(client)
    return rules.decide(Arrival(channel, body, at, **arrival), state, CALGARY)  # type: ignore[arg-type]


# -- filing and clocks -------------------------------------------------------------------------


def test_consented_message_in_hours_is_filed_and_opens_an_inquiry_due_next_day():
    d = decide("hello", client=a_client())
    assert d.file and d.refusal is None
    assert d.inquiry is InquiryStep.OPEN and d.clock_holder == "amal"
    assert d.due_at == local("2026-11-24T10:00")
    assert d.reply is None


def test_friday_evening_message_is_due_tuesday_morning():
    d = decide("hello", FRIDAY_18, a_client())
    assert d.due_at == local("2026-12-01T09:00")


def test_message_with_an_open_inquiry_joins_it():
    d = decide("more", client=a_client(open_inquiry_id="inq_1"))
    assert d.inquiry is InquiryStep.JOIN and d.due_at is None


def test_filed_message_moves_the_last_inbound_instant():
    d = decide("hello", client=a_client())
    assert d.client_changes["last_inbound_at"] == MONDAY_10


# -- after hours -------------------------------------------------------------------------------


def test_after_hours_message_gets_a_reply_naming_the_next_opening_in_arabic():
    d = decide("hello", FRIDAY_18, a_client())
    assert d.reply is not None and d.reply.kind is ReplyKind.AUTO_REPLY and d.reply.template == "after_hours"
    assert "الاثنين" in d.reply.body and "911" in d.reply.body
    assert d.reply_period is not None


def test_second_message_in_the_same_closed_period_gets_no_reply():
    first = decide("hello", FRIDAY_18, a_client())
    state = FileState(a_client(open_inquiry_id="inq_1"), last_auto_reply_period=first.reply_period)
    d = decide("again", local("2026-11-28T12:00"), state=state)
    assert d.reply is None and d.file


def test_message_during_the_lunch_closure_of_halifax_is_after_hours():
    halifax = Policy.from_dict(json.loads((ROOT / "policies" / "halifax-isans.json").read_text(encoding="utf-8")))
    at = datetime(2026, 11, 23, 12, 30, tzinfo=ZoneInfo("America/Halifax"))
    d = rules.decide(Arrival(Channel.WHATSAPP, "hi", at), FileState(a_client(agency_id="halifax-isans")), halifax)
    assert d.reply is not None and d.reply.template == "after_hours"


def test_in_hours_message_gets_no_automatic_reply():
    assert decide("hello", client=a_client()).reply is None


# -- consent gate ------------------------------------------------------------------------------


def test_sender_without_a_file_is_refused_with_the_intake_text():
    d = decide("hello")
    assert not d.file and d.refusal is Refusal.NO_FILE
    assert d.reply is not None and d.reply.kind is ReplyKind.INTAKE and d.reply.template == "intake"


def test_file_without_consent_is_refused():
    d = decide("hello", client=a_client(consent=Consent()))
    assert not d.file and d.refusal is Refusal.NO_CONSENT


def test_withdrawn_consent_is_refused():
    withdrawn = Consent(state=ConsentState.WITHDRAWN, channels=frozenset({Channel.WHATSAPP}))
    assert decide("hello", client=a_client(consent=withdrawn)).refusal is Refusal.CONSENT_WITHDRAWN


def test_consent_for_another_channel_is_refused():
    sms_only = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}))
    assert decide("hello", client=a_client(consent=sms_only)).refusal is Refusal.NO_CONSENT


@pytest.mark.parametrize(("status", "refusal"), [
    (ClientStatus.SUSPENDED, Refusal.FILE_SUSPENDED),
    (ClientStatus.CLOSED, Refusal.FILE_CLOSED),
])
def test_suspended_or_closed_file_is_refused(status: ClientStatus, refusal: Refusal):
    assert decide("hello", client=a_client(status=status)).refusal is refusal


# -- keywords ----------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop ", "STOPALL", "unsubscribe", "END", "quit", "REVOKE",
                                  "optout", "Cancel"])
def test_stop_words_opt_the_client_out(word: str):
    d = decide(word, client=a_client())
    assert d.keyword is Keyword.STOP and d.opt_change is OptChange.OPT_OUT
    assert d.client_changes["opted_out"] is True


def test_stop_please_is_an_ordinary_message():
    d = decide("Stop please", client=a_client())
    assert d.keyword is None and d.opt_change is None and d.inquiry is InquiryStep.OPEN


def test_twilio_opt_out_type_counts_as_stop_whatever_the_text():
    d = decide("ARRÊT", client=a_client(channel=Channel.SMS, consent=Consent(
        state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}))), channel=Channel.SMS, opt_out_type="STOP")
    assert d.opt_change is OptChange.OPT_OUT and d.opt_source is rules.OptSource.OPT_OUT_TYPE
    assert d.reply is None  # Twilio confirms on SMS


def test_stop_on_whatsapp_is_confirmed_by_us():
    d = decide("STOP", client=a_client())
    assert d.reply is not None and d.reply.template == "opted_out"


def test_start_restores_an_opted_out_consented_client():
    d = decide("START", client=a_client(opted_out=True))
    assert d.opt_change is OptChange.OPT_IN and d.client_changes["opted_out"] is False


def test_start_without_consent_restores_nothing():
    d = decide("START", client=a_client(opted_out=True, consent=Consent()))
    assert d.opt_change is None and not d.file


def test_yes_from_a_client_who_never_opted_out_is_an_ordinary_answer():
    d = decide("Yes", client=a_client())
    assert d.opt_change is None and d.file and d.inquiry is InquiryStep.OPEN


def test_help_is_answered_and_opens_no_inquiry():
    d = decide("HELP", client=a_client())
    assert d.reply is not None and d.reply.template == "help" and d.inquiry is InquiryStep.NONE


def test_look_alike_letters_are_not_a_keyword():
    assert decide("ſtop", client=a_client()).keyword is None


def test_opted_out_client_message_is_refused():
    d = decide("are you there", client=a_client(opted_out=True))
    assert not d.file and d.refusal is Refusal.OPTED_OUT


# -- surveys -----------------------------------------------------------------------------------


def test_digit_after_a_survey_is_a_score_not_an_inquiry():
    state = FileState(a_client(), last_survey_at=MONDAY_10 - timedelta(hours=2))
    d = decide("4", state=state)
    assert d.score == 4 and d.inquiry is InquiryStep.NONE and d.file


def test_arabic_indic_digit_is_a_score():
    state = FileState(a_client(), last_survey_at=MONDAY_10 - timedelta(hours=2))
    assert decide("٥", state=state).score == 5


def test_digit_long_after_the_survey_is_an_ordinary_message():
    state = FileState(a_client(), last_survey_at=MONDAY_10 - timedelta(days=10))
    d = decide("4", state=state)
    assert d.score is None and d.inquiry is InquiryStep.OPEN


def test_second_score_for_the_same_survey_is_an_ordinary_message():
    sent = MONDAY_10 - timedelta(hours=2)
    state = FileState(a_client(), last_survey_at=sent, last_survey_scored_at=sent + timedelta(minutes=5))
    assert decide("3", state=state).score is None


# -- delivery statuses --------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "new", "moves"), [
    ("queued", "sent", True),
    ("sent", "delivered", True),
    ("delivered", "read", True),
    ("read", "delivered", False),
    ("delivered", "sent", False),
    ("sent", "failed", True),
    ("failed", "delivered", False),
    ("delivered", "undelivered", False),
    ("sent", "sent", False),
])
def test_delivery_status_only_moves_forward(current: str, new: str, moves: bool):
    assert status_advances(current, new) is moves
