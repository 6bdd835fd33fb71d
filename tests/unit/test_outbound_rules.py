"""Pure rules of staff messages, clocks and absences (issue 4): no storage, no network."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.absence import Absence, absence_on, cover_on, covered_by, local_day, parse_day
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.inquiry import Inquiry, InquiryStatus
from chalicelib.domain.messages import MessageStatus
from chalicelib.domain.model import Channel
from chalicelib.domain.outbound import (
    answer_inquiry,
    breach_due,
    plan_send,
    retry_delay,
    whatsapp_window_open,
)
from chalicelib.domain.policy import Policy
from chalicelib.services.absences import PutAbsence
from chalicelib.services.messaging import SendStaffMessage
from tests.conftest import ROOT

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY = Policy.from_dict(json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8")))
CAL = CALGARY.calendar


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON).astimezone(UTC)


def inquiry(opened: str, due: str, status: InquiryStatus = InquiryStatus.OPEN) -> Inquiry:
    return Inquiry("iq_1", "calgary-cfn", "cl_1", "amal", status, local(opened), local(due))


# --- when a staff message goes ----------------------------------------------------------------


def test_message_inside_hours_goes_now():
    now = local("2026-02-10T10:00")
    plan = plan_send(now, CAL, None)
    assert plan.send_now and plan.send_at == now and not plan.override


def test_friday_evening_message_is_held_until_monday_nine():
    plan = plan_send(local("2026-02-06T18:30"), CAL, None)
    assert not plan.send_now and plan.send_at == local("2026-02-09T09:00")


def test_closing_instant_is_already_closed():
    assert plan_send(local("2026-02-10T17:00"), CAL, None).send_at == local("2026-02-11T09:00")


def test_message_before_a_holiday_waits_past_it():
    # Monday 2026-02-16 is Family Day in Alberta.
    assert plan_send(local("2026-02-13T20:00"), CAL, None).send_at == local("2026-02-17T09:00")


def test_override_reason_sends_now_outside_hours_and_is_flagged():
    now = local("2026-02-07T23:00")
    plan = plan_send(now, CAL, "client in danger")
    assert plan.send_now and plan.override and plan.send_at == now


def test_held_across_spring_forward_opens_at_local_nine():
    # Clocks go forward on Sunday 2026-03-08; Monday 9:00 is then UTC-6.
    assert plan_send(local("2026-03-06T18:00"), CAL, None).send_at == datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


# --- WhatsApp's 24-hour window ------------------------------------------------------------------


def test_whatsapp_window_is_24_hours_after_the_last_inbound_message():
    inbound = local("2026-02-10T10:00")
    assert whatsapp_window_open(Channel.WHATSAPP, inbound, inbound + timedelta(hours=23, minutes=59))
    assert not whatsapp_window_open(Channel.WHATSAPP, inbound, inbound + timedelta(hours=24))
    assert not whatsapp_window_open(Channel.WHATSAPP, None, inbound)


def test_sms_has_no_window():
    assert whatsapp_window_open(Channel.SMS, None, local("2026-02-10T10:00"))


# --- retries ------------------------------------------------------------------------------------


def test_retry_delay_doubles_and_is_capped_at_an_hour():
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(10) == timedelta(hours=1)
    assert retry_delay(10_000) == timedelta(hours=1)
    assert retry_delay(0) == timedelta(minutes=1)


def test_only_held_and_queued_messages_wait_to_be_sent():
    assert {s for s in MessageStatus if s.waiting} == {MessageStatus.HELD, MessageStatus.QUEUED}


# --- answering an inquiry -----------------------------------------------------------------------


def test_answer_counts_business_time_waited_and_is_on_time():
    answer = answer_inquiry(inquiry("2026-02-06T16:00", "2026-02-09T16:00"), local("2026-02-09T09:05"), "amal",
                            CAL, holding=False)
    assert answer is not None and not answer.late
    assert answer.business_seconds == 65 * 60 and answer.business_minutes == 65


def test_answer_after_due_is_late():
    answer = answer_inquiry(inquiry("2026-02-10T09:00", "2026-02-11T09:00"), local("2026-02-11T09:01"), "amal",
                            CAL, holding=True)
    assert answer is not None and answer.late and answer.holding


def test_answer_to_a_breached_inquiry_is_late_even_if_due_moved():
    breached = inquiry("2026-02-10T09:00", "2026-02-12T09:00", InquiryStatus.BREACHED)
    answer = answer_inquiry(breached, local("2026-02-11T10:00"), "amal", CAL, holding=False)
    assert answer is not None and answer.late


def test_an_answer_at_exactly_the_due_time_is_on_time_and_the_sweep_agrees_it_is_no_breach():
    """One rule for the clock's edge (issue 11 item 19): ``due_at`` is the last on-time instant."""
    open_one = inquiry("2026-02-10T09:00", "2026-02-11T09:00")
    due = local("2026-02-11T09:00")
    answer = answer_inquiry(open_one, due, "amal", CAL, holding=False)
    assert answer is not None and not answer.late
    assert not breach_due(open_one, due)
    just_after = due + timedelta(microseconds=1)
    late = answer_inquiry(open_one, just_after, "amal", CAL, holding=False)
    assert late is not None and late.late
    assert breach_due(open_one, just_after)


def test_answered_inquiry_needs_no_answer():
    done = inquiry("2026-02-10T09:00", "2026-02-11T09:00", InquiryStatus.ANSWERED)
    assert answer_inquiry(done, local("2026-02-10T10:00"), "amal", CAL, holding=False) is None


def test_breach_only_for_open_inquiries_past_due():
    open_one = inquiry("2026-02-10T09:00", "2026-02-11T09:00")
    assert not breach_due(open_one, local("2026-02-11T08:59"))
    assert not breach_due(open_one, local("2026-02-11T09:00"))  # the due instant itself is still on time
    assert breach_due(open_one, local("2026-02-11T09:00") + timedelta(microseconds=1))
    breached = inquiry("2026-02-10T09:00", "2026-02-11T09:00", InquiryStatus.BREACHED)
    assert not breach_due(breached, local("2026-02-12T09:00"))


# --- absences -----------------------------------------------------------------------------------


@dataclass
class Stored:
    """Absences as the staff table keeps them: dates as strings."""

    absence_id: str
    start: str
    end: str
    cover_id: str


def test_cover_on_is_inclusive_of_both_days():
    absences = [Absence("a1", date(2026, 2, 11), date(2026, 2, 13), "jean")]
    assert cover_on(absences, date(2026, 2, 10)) is None
    assert cover_on(absences, date(2026, 2, 11)) == "jean"
    assert cover_on(absences, date(2026, 2, 13)) == "jean"
    assert cover_on(absences, date(2026, 2, 14)) is None
    assert cover_on([], date(2026, 2, 11)) is None


def test_cover_on_reads_stored_string_dates_and_latest_start_wins():
    absences = [Stored("long", "2026-02-01", "2026-02-28", "jean"), Stored("short", "2026-02-10", "2026-02-12", "lina")]
    assert cover_on(absences, date(2026, 2, 11)) == "lina"
    assert cover_on(absences, date(2026, 2, 20)) == "jean"
    assert absence_on(absences, date(2026, 2, 20)).absence_id == "long"


def test_cover_on_skips_malformed_entries():
    assert cover_on([Stored("bad", "soon", "later", "jean")], date(2026, 2, 11)) is None


def test_covered_by_lists_the_absent_colleagues_of_one_cover():
    by_staff = {
        "amal": [Absence("a", date(2026, 2, 11), date(2026, 2, 13), "jean")],
        "samir": [Absence("s", date(2026, 2, 12), date(2026, 2, 12), "jean")],
        "lina": [Absence("l", date(2026, 2, 11), date(2026, 2, 13), "amal")],
        "jean": [],
    }
    assert covered_by(by_staff, "jean", date(2026, 2, 12)) == {"amal", "samir"}
    assert covered_by(by_staff, "jean", date(2026, 2, 11)) == {"amal"}
    assert covered_by(by_staff, "amal", date(2026, 2, 11)) == {"lina"}
    assert covered_by(by_staff, "jean", date(2026, 2, 14)) == frozenset()


def test_absence_day_is_the_agency_local_day():
    # 23:30 in Calgary on the 10th is already the 11th in UTC.
    assert local_day(local("2026-02-10T23:30"), EDMONTON) == date(2026, 2, 10)


def test_absence_must_end_on_or_after_its_start_and_last_at_most_a_year():
    with pytest.raises(ValueError, match="end"):
        Absence("a", date(2026, 2, 11), date(2026, 2, 10), "jean")
    with pytest.raises(ValueError, match="end"):
        Absence("a", date(2026, 1, 1), date(2027, 1, 2), "jean")
    assert Absence("a", date(2026, 2, 11), date(2026, 2, 11), "jean").covers_day(date(2026, 2, 11))


def test_parse_day_accepts_dates_and_iso_strings_only():
    assert parse_day("2026-02-11") == date(2026, 2, 11)
    assert parse_day(date(2026, 2, 11)) == date(2026, 2, 11)
    for bad in ("2026-2-11", "11/02/2026", None, 20260211, datetime(2026, 2, 11, tzinfo=UTC)):
        with pytest.raises(ValueError):
            parse_day(bad)


# --- parsing requests ---------------------------------------------------------------------------


def test_staff_message_parse():
    command = SendStaffMessage.parse({"body": "  Hello  ", "holding": True, "override_reason": " fire "})
    assert (command.body, command.holding, command.override_reason) == ("Hello", True, "fire")
    assert SendStaffMessage.parse({"body": "x", "holding": None, "override_reason": None}).override_reason is None


def test_a_send_request_has_one_fingerprint_whatever_its_json_spelling():
    one = SendStaffMessage.parse({"body": "Hello", "holding": False}, "k").fingerprint("cl_1")
    assert SendStaffMessage.parse({"holding": None, "body": " Hello "}, "k").fingerprint("cl_1") == one
    assert SendStaffMessage.parse({"body": "Hello"}, "other-key").fingerprint("cl_1") == one  # the key is not asked
    assert len(one) == 64 and "Hello" not in one


@pytest.mark.parametrize("other", [{"body": "Hello!"}, {"body": "Hello", "holding": True},
                                   {"body": "Hello", "override_reason": "fire"},
                                   {"body": "Hello", "media": [{"key": "uploads/x.png"}]}])
def test_a_send_request_asking_anything_else_has_another_fingerprint(other):
    one = SendStaffMessage.parse({"body": "Hello"}).fingerprint("cl_1")
    assert SendStaffMessage.parse(other).fingerprint("cl_1") != one
    assert SendStaffMessage.parse({"body": "Hello"}).fingerprint("cl_2") != one


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (None, "body"),
        ([], "body"),
        ({"body": "   "}, "body"),
        ({"body": "a" * 1601}, "body"),
        ({"body": "a\u0000b"}, "body"),
        ({"body": "a", "holding": 1}, "holding"),
        ({"body": "a", "override_reason": "r" * 501}, "override_reason"),
        ({"body": "a", "override_reason": ""}, "override_reason"),  # SPEC §4.4: never a silent hold
        ({"body": "a", "override_reason": " \t "}, "override_reason"),
    ],
)
def test_staff_message_parse_names_the_bad_field(payload, field):
    with pytest.raises(InvalidInput) as err:
        SendStaffMessage.parse(payload)
    assert err.value.field == field


def test_absence_parse_names_the_bad_field():
    good = {"start": "2026-02-11", "end": "2026-02-13", "cover_id": "jean"}
    assert PutAbsence.parse("leave-1", good).absence().cover_id == "jean"
    for payload, field in (({**good, "start": 5}, "start"), ({**good, "end": "2026-02-10"}, "end"),
                           ({**good, "cover_id": "a b"}, "cover_id"), ({**good, "note": 7}, "note")):
        with pytest.raises(InvalidInput) as err:
            PutAbsence.parse("leave-1", payload)
        assert err.value.field == field
    with pytest.raises(InvalidInput) as err:
        PutAbsence.parse("bad id!", good)
    assert err.value.field == "absence_id"
