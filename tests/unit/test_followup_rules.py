"""Who is due a follow-up, check-in or survey, and when (pure rules, SPEC §5.5)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import followups as f
from chalicelib.domain.followups import FollowupKind
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState
from chalicelib.domain.policy import Policy
from tests.conftest import ROOT

EDMONTON = ZoneInfo("America/Edmonton")
HALIFAX = ZoneInfo("America/Halifax")


def _data(name: str) -> dict:
    return json.loads((ROOT / "policies" / f"{name}.json").read_text(encoding="utf-8"))


CALGARY = Policy.from_dict(_data("calgary-cfn"))
HALIFAX_POLICY = Policy.from_dict(_data("halifax-isans"))


def policy_with(**followups: object) -> Policy:
    data = copy.deepcopy(_data("calgary-cfn"))
    data["followups"].update(followups)
    return Policy.from_dict(data)


def local(text: str, zone: ZoneInfo = EDMONTON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def wall(at: datetime, zone: ZoneInfo = EDMONTON) -> str:
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def client(**overrides: object) -> Client:
    base = Client(
        client_id="cl_1",
        agency_id="calgary-cfn",
        case_manager_id="amal",
        phone="+15875550123",
        channel=Channel.WHATSAPP,
        language="ar",
        name="Fatima",
        status=ClientStatus.ACTIVE,
        created_at=local("2026-01-15T11:00"),
        consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.WHATSAPP}),
                        recorded_at=local("2026-01-15T11:30"), signed_at=local("2026-01-15T11:00")),
        version=3,
    )
    return replace(base, **overrides)


# -- send slots -------------------------------------------------------------------------------


def test_send_slot_is_the_policy_time_on_a_business_day():
    assert wall(f.send_slot(date(2026, 11, 23), CALGARY)) == "Mon 2026-11-23 10:00"


@pytest.mark.parametrize("day", [date(2026, 11, 28), date(2026, 11, 29), date(2026, 12, 24), date(2026, 12, 25),
                                 date(2026, 2, 16), date(2026, 11, 11)])
def test_weekends_holidays_and_closures_have_no_slot(day):
    assert f.send_slot(day, CALGARY) is None


def test_a_follow_up_time_in_the_lunch_break_moves_to_the_afternoon_opening():
    data = _data("halifax-isans")
    data["followups"]["time"] = "12:15"
    policy = Policy.from_dict(data)
    assert wall(f.send_slot(date(2026, 11, 24), policy), HALIFAX) == "Tue 2026-11-24 13:00"


def test_a_follow_up_time_after_closing_means_the_first_opening():
    policy = policy_with(time="18:30")
    assert wall(f.send_slot(date(2026, 11, 24), policy)) == "Tue 2026-11-24 09:00"


def test_slot_gate_opens_at_the_follow_up_time_and_closes_with_the_office():
    assert not f.slot_passed_today(local("2026-11-23T09:59"), CALGARY)
    assert f.slot_passed_today(local("2026-11-23T10:00"), CALGARY)
    assert f.slot_passed_today(local("2026-11-23T16:59"), CALGARY)
    assert not f.slot_passed_today(local("2026-11-23T17:00"), CALGARY)
    assert not f.slot_passed_today(local("2026-11-28T11:00"), CALGARY)  # Saturday
    assert not f.slot_passed_today(local("2026-12-24T11:00"), CALGARY)  # closure


# -- follow-ups -------------------------------------------------------------------------------


def test_quiet_since_friday_afternoon_is_followed_up_the_monday_after_next_at_ten():
    due = f.next_followup_at(local("2026-11-20T15:00"), CALGARY)
    assert wall(due) == "Mon 2026-11-30 10:00"


def test_quiet_since_monday_morning_is_followed_up_a_week_later_at_ten():
    assert wall(f.next_followup_at(local("2026-11-16T09:30"), CALGARY)) == "Mon 2026-11-23 10:00"


def test_an_exchange_after_the_follow_up_time_waits_for_the_next_business_day():
    assert wall(f.next_followup_at(local("2026-11-16T11:00"), CALGARY)) == "Tue 2026-11-24 10:00"


def test_a_follow_up_falling_on_a_holiday_moves_to_the_next_business_day():
    # Due Monday 16 February 2026 (Family Day in Alberta).
    assert wall(f.next_followup_at(local("2026-02-09T09:00"), CALGARY)) == "Tue 2026-02-17 10:00"


def test_follow_up_time_stays_on_albertas_year_round_offset_where_the_old_rules_fell_back():
    # tzdata 2026f: no return to UTC-7 on 1 November 2026, so 10:00 local is 16:00 UTC.
    due = f.next_followup_at(local("2026-10-26T09:30"), CALGARY)
    assert wall(due) == "Mon 2026-11-02 10:00"
    assert due.astimezone(UTC).hour == 16


def test_closures_over_christmas_push_follow_ups_to_the_next_open_day():
    # Due Thursday 24 December (closure), then Christmas, the weekend: Monday 28 December.
    assert wall(f.next_followup_at(local("2026-12-17T09:00"), CALGARY)) == "Mon 2026-12-28 10:00"


# -- check-ins and surveys --------------------------------------------------------------------


def test_check_in_goes_on_the_files_day_of_the_month_or_the_next_business_day():
    # The file opened on the 15th; 15 March 2026 is a Sunday.
    assert wall(f.next_checkin_at(local("2026-02-15T10:00"), 15, CALGARY)) == "Mon 2026-03-16 10:00"


def test_check_in_stays_inside_its_month_when_the_month_ends_on_a_weekend():
    # 28 February 2026 is a Saturday: forward would leave February, so Friday the 27th.
    assert wall(f.next_checkin_at(local("2026-01-31T10:00"), 31, CALGARY)) == "Fri 2026-02-27 10:00"


def test_check_in_period_is_the_agency_local_month():
    # 00:30 local on 1 December is still 30 November... in no zone that matters: the agency's wins.
    at = local("2026-12-01T00:30")
    assert f.checkin_period(at, CALGARY) == "2026-12"
    assert f.checkin_period(local("2026-11-30T23:30"), CALGARY) == "2026-11"


def test_survey_goes_a_cadence_after_the_last_one_at_the_follow_up_time():
    assert wall(f.next_survey_at(local("2026-01-15T10:00"), CALGARY)) == "Wed 2026-04-15 10:00"


def test_a_claim_period_is_the_iso_week_or_for_a_shorter_cadence_the_day():
    # The claim itself (kind, client, period) is the claims repository's: tests/unit/test_claim_keys.py.
    assert f.followup_period(local("2026-11-23T10:00"), CALGARY) == "2026-W48"
    short = policy_with(cadence="P3D")
    assert f.followup_period(local("2026-11-23T10:00"), short) == "2026-11-23"
    assert f.survey_period(local("2026-04-15T10:00"), CALGARY) == "2026-04-15"


# -- entering the indexes ---------------------------------------------------------------------


def test_consented_client_enters_every_index():
    now = local("2026-11-23T14:00")
    changes = f.schedule_changes(client(), CALGARY, now)
    assert changes["followup_agency"] == changes["checkin_agency"] == changes["survey_agency"] == "calgary-cfn"
    assert wall(changes["next_followup_at"]) == "Tue 2026-12-01 10:00"
    assert wall(changes["next_checkin_at"]) == "Tue 2026-12-15 10:00"
    assert wall(changes["next_survey_at"]) == "Mon 2027-02-22 10:00"


@pytest.mark.parametrize("overrides", [
    {"consent": Consent()},
    {"consent": Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}))},
    {"opted_out": True},
    {"status": ClientStatus.SUSPENDED},
    {"status": ClientStatus.CLOSED},
])
def test_unreachable_client_leaves_every_index(overrides):
    assert f.schedule_changes(client(**overrides), CALGARY, local("2026-11-23T14:00")) == dict(f.UNSCHEDULE)


def test_without_monthly_check_ins_no_check_in_is_scheduled():
    changes = f.schedule_changes(client(), policy_with(monthly_checkin=False), local("2026-11-23T14:00"))
    assert changes["checkin_agency"] is None and changes["next_checkin_at"] is None


# -- planning one due client ------------------------------------------------------------------


NOW = local("2026-11-30T10:05")  # Monday


def test_quiet_client_due_gets_a_follow_up_and_the_next_one_a_week_later():
    c = client(last_inbound_at=local("2026-11-20T15:00"), next_followup_at=local("2026-11-30T10:00"),
               next_checkin_at=local("2026-12-15T10:00"), next_survey_at=local("2027-01-01T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is FollowupKind.FOLLOWUP and p.period == "2026-W49"
    assert wall(p.changes["next_followup_at"]) == "Mon 2026-12-07 10:00"
    assert p.changes["last_outbound_at"] == NOW.astimezone(UTC)
    assert "next_checkin_at" not in p.changes and "last_survey_at" not in p.changes


def test_client_who_wrote_since_is_rescheduled_without_a_message():
    c = client(last_inbound_at=local("2026-11-26T16:00"), next_followup_at=local("2026-11-30T10:00"),
               next_checkin_at=local("2026-12-15T10:00"), next_survey_at=local("2027-01-01T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is None and p.reason == "recent_exchange"
    assert wall(p.changes["next_followup_at"]) == "Fri 2026-12-04 10:00"


def test_staff_message_counts_as_an_exchange():
    c = client(last_inbound_at=local("2026-11-01T16:00"), last_outbound_at=local("2026-11-27T09:00"),
               next_followup_at=local("2026-11-30T10:00"), next_checkin_at=local("2026-12-15T10:00"),
               next_survey_at=local("2027-01-01T10:00"))
    assert f.plan(c, CALGARY, NOW).send is None


def test_check_in_wins_over_a_follow_up_due_the_same_day():
    c = client(last_inbound_at=local("2026-11-01T16:00"), next_followup_at=local("2026-11-30T10:00"),
               next_checkin_at=local("2026-11-30T10:00"), next_survey_at=local("2027-01-01T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is FollowupKind.CHECKIN and p.period == "2026-11"
    assert wall(p.changes["next_checkin_at"]) == "Tue 2026-12-15 10:00"
    assert wall(p.changes["next_followup_at"]) == "Mon 2026-12-07 10:00"


def test_survey_due_with_a_follow_up_waits_for_the_next_business_day():
    c = client(last_inbound_at=local("2026-11-01T16:00"), next_followup_at=local("2026-11-30T10:00"),
               next_checkin_at=local("2026-12-15T10:00"), next_survey_at=local("2026-11-30T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is FollowupKind.FOLLOWUP
    assert wall(p.changes["next_survey_at"]) == "Tue 2026-12-01 10:00"


def test_survey_sets_last_survey_at_and_the_next_survey_a_cadence_later():
    c = client(last_inbound_at=local("2026-11-27T16:00"), next_followup_at=local("2026-12-07T10:00"),
               next_checkin_at=local("2026-12-15T10:00"), next_survey_at=local("2026-11-30T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is FollowupKind.SURVEY and p.period == "2026-11-30"
    assert p.changes["last_survey_at"] == NOW.astimezone(UTC)
    assert wall(p.changes["next_survey_at"]) == "Mon 2027-03-01 10:00"


def test_unreachable_client_found_due_is_taken_out_of_the_indexes():
    c = client(opted_out=True, next_followup_at=local("2026-11-30T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is None and p.changes == dict(f.UNSCHEDULE)


def test_nothing_due_after_all_changes_nothing():
    c = client(next_followup_at=local("2026-12-07T10:00"), next_checkin_at=local("2026-12-15T10:00"),
               next_survey_at=local("2027-01-01T10:00"))
    p = f.plan(c, CALGARY, NOW)
    assert p.send is None and not p.changes


def test_a_follow_up_already_sent_this_week_moves_to_next_week():
    changes = f.skip_period(FollowupKind.FOLLOWUP, client(), CALGARY, local("2026-11-25T10:05"))
    assert wall(changes["next_followup_at"]) == "Mon 2026-11-30 10:00"


def test_one_follow_up_per_cadence_while_a_client_stays_quiet():
    """Simulate a quiet client over six weeks: exactly one follow-up a week, never on a closed day."""
    c = client(last_inbound_at=local("2026-11-02T16:00"), next_checkin_at=local("2027-06-15T10:00"),
               next_survey_at=local("2027-06-15T10:00"))
    c = replace(c, next_followup_at=f.next_followup_at(f.last_exchange(c), CALGARY))
    sent: list[datetime] = []
    at = local("2026-11-02T00:00")
    while at < local("2026-12-14T00:00"):
        if f.slot_passed_today(at, CALGARY):
            p = f.plan(c, CALGARY, at)
            if p.send is not None:
                sent.append(at)
            c = replace(c, **{k: v for k, v in p.changes.items() if hasattr(c, k)})
        at += timedelta(minutes=10)
    assert [wall(s) for s in sent] == ["Tue 2026-11-10 10:00", "Tue 2026-11-17 10:00", "Tue 2026-11-24 10:00",
                                       "Tue 2026-12-01 10:00", "Tue 2026-12-08 10:00"]
