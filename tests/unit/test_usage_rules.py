"""The funder statistics of SPEC §5.6 as pure arithmetic over audit events (domain/usage.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from chalicelib.domain import usage as u
from chalicelib.domain.audit import AuditType
from chalicelib.domain.reporting import AuditRecord

DAY = date(2026, 3, 3)
START = datetime(2026, 3, 3, 7, tzinfo=UTC)  # 3 March, Calgary midnight
END = START + timedelta(days=1)
_n = iter(range(10**6))


def at(hour: int, minute: int = 0) -> datetime:
    return START + timedelta(hours=hour, minutes=minute)


def ev(type_: AuditType | str, when: datetime, client: str | None = "c1", **details) -> AuditRecord:
    value = type_.value if isinstance(type_, AuditType) else type_
    return AuditRecord(event_id=f"ev{next(_n):06d}", type=value, at=when, actor="x", staff_id="amal",
                       client_id=client, details=details)


def facts(*events: AuditRecord) -> u.UsageDay:
    return u.day_facts(DAY, events, START, END)


def test_stop_and_withdrawal_are_left_a_case_completed_closure_is_neither():
    day = facts(
        ev(AuditType.OPTED_OUT, at(2), client="stop"),
        ev(AuditType.CONSENT_WITHDRAWN, at(3), client="withdrew"),
        ev(AuditType.CLIENT_STATUS, at(4), client="done", status="closed", conduct=False),
        ev(AuditType.CLIENT_STATUS, at(5), client="rude", status="suspended", conduct=True),
    )
    figures = u.combine([day], 0)
    assert (figures.clients_left, figures.clients_removed) == (2, 1)
    assert day.left == {"stop", "withdrew"} and day.removed == {"rude"}


def test_a_client_who_withdrew_and_was_then_removed_counts_as_removed_only():
    day = facts(ev(AuditType.CONSENT_WITHDRAWN, at(1), client="x"),
                ev(AuditType.CLIENT_STATUS, at(2), client="x", status="closed", conduct=True))
    figures = u.combine([day], 0)
    assert (figures.clients_left, figures.clients_removed) == (0, 1)


def test_consent_given_again_is_not_a_new_client():
    day = facts(ev(AuditType.CONSENT_GIVEN, at(1), client="a", first=True),
                ev(AuditType.CONSENT_GIVEN, at(2), client="b", first=False))
    assert day.new == {"a"}


def test_holding_replies_and_undone_answers_do_not_count_as_answered():
    day = facts(
        ev(AuditType.INQUIRY_ANSWERED, at(1), inquiry_id="held", holding=True),
        ev(AuditType.INQUIRY_ANSWERED, at(2), inquiry_id="failed"),
        ev("inquiry.reopened", at(3), inquiry_id="failed", answer_undone=True),
        ev(AuditType.INQUIRY_ANSWERED, at(4), inquiry_id="ok"),
        # an answer taken back only after the day (inside the settle window) is taken back too
        ev(AuditType.INQUIRY_ANSWERED, at(5), inquiry_id="late_fail"),
        ev("inquiry.reopened", END + timedelta(hours=1), inquiry_id="late_fail", answer_undone=True),
    )
    assert day.inquiries_answered == 1


def test_an_answer_that_failed_in_the_same_instant_is_not_answered_whichever_event_sorts_first():
    when = at(2)
    answer = ev(AuditType.INQUIRY_ANSWERED, when, inquiry_id="q", message_id="m1")
    failure = ev(AuditType.STAFF_MESSAGE_FAILED, when, message_id="m1")
    reopened = ev("inquiry.reopened", when, inquiry_id="q", answer_undone=True)
    for order in ((answer, failure, reopened), (reopened, failure, answer), (failure, reopened, answer)):
        renamed = [AuditRecord(event_id=f"tie{i}", type=e.type, at=e.at, actor=e.actor, client_id=e.client_id,
                               details=e.details) for i, e in enumerate(order)]
        assert facts(*renamed).inquiries_answered == 0, [e.type for e in order]


def test_messages_out_are_staff_messages_that_went_out_and_did_not_fail():
    day = facts(
        ev(AuditType.MESSAGE_FILED, at(1), direction="outbound", kind="staff", message_id="held"),
        ev(AuditType.STAFF_MESSAGE_HELD, at(1), message_id="held"),  # not yet out
        ev(AuditType.STAFF_MESSAGE_SENT, at(2), message_id="m1"),
        ev(AuditType.STAFF_MESSAGE_RELEASED, at(3), message_id="m2"),  # held, then sent
        ev(AuditType.STAFF_MESSAGE_SENT, at(4), message_id="m3"),
        ev(AuditType.STAFF_MESSAGE_FAILED, at(5), message_id="m3"),
        ev(AuditType.MESSAGE_FILED, at(6), direction="outbound", kind="followup", message_id="f1"),
    )
    assert day.messages_out == 2


def test_keywords_are_not_private_messages_but_their_senders_participate():
    day = facts(
        ev(AuditType.MESSAGE_FILED, at(1), client="a", direction="inbound", kind="client"),
        ev(AuditType.MESSAGE_FILED, at(2), client="a", direction="inbound", kind="client"),
        ev(AuditType.MESSAGE_FILED, at(3), client="b", direction="inbound", kind="client", keyword="stop"),
    )
    assert (day.messages_in, day.participants) == (2, {"a", "b"})


def test_automatic_messages_and_followups_are_counted_once_each():
    day = facts(
        ev(AuditType.AUTO_REPLY_SENT, at(1), template="after_hours"),
        ev(AuditType.MESSAGE_FILED, at(1), direction="outbound", kind="auto_reply"),
        ev(AuditType.FOLLOWUP_SENT, at(2), kind="followup"),
        ev(AuditType.MESSAGE_FILED, at(2), direction="outbound", kind="followup"),
        ev(AuditType.FOLLOWUP_SENT, at(3), kind="checkin"),
        ev(AuditType.FOLLOWUP_SENT, at(4), kind="survey"),
        ev(AuditType.MESSAGE_FILED, at(5), direction="outbound", kind="notice", message_id="n1"),
        ev(AuditType.NOTICE_SENT, at(5), message_id="n1"),
    )
    assert (day.automatic_messages, day.followups) == (5, 2)


def test_follow_ups_and_notices_filed_but_never_accepted_by_twilio_count_nowhere():
    day = facts(
        ev(AuditType.MESSAGE_FILED, at(1), direction="outbound", kind="followup", message_id="f1"),
        ev(AuditType.MESSAGE_FILED, at(2), direction="outbound", kind="checkin", message_id="c1"),
        ev(AuditType.MESSAGE_FILED, at(3), direction="outbound", kind="notice", message_id="n1"),
        ev(AuditType.MESSAGE_FILED, at(4), direction="outbound", kind="notice", message_id="n2",
           error_code="whatsapp_window_closed"),
    )
    assert (day.automatic_messages, day.followups) == (0, 0)


def test_a_post_counts_once_whatever_its_recipients_and_days():
    first = facts(*(ev(AuditType.MESSAGE_FILED, at(1), client=f"c{i}", direction="outbound", kind="post",
                       post_id="p1", message_id=f"m{i}") for i in range(5)))
    second = u.day_facts(DAY + timedelta(days=1), [
        ev(AuditType.MESSAGE_FILED, END + timedelta(hours=2), direction="outbound", kind="post", post_id="p1"),
        ev(AuditType.MESSAGE_FILED, END + timedelta(hours=2), direction="outbound", kind="post", post_id="p2"),
    ], END, END + timedelta(days=1))
    assert u.combine([first, second], 0).posts == 2


def test_events_outside_the_day_are_not_counted():
    day = facts(ev(AuditType.INQUIRY_OPENED, START - timedelta(seconds=1)), ev(AuditType.INQUIRY_OPENED, END),
                ev(AuditType.INQUIRY_OPENED, START), ev("referral.recorded", at(1)))
    assert (day.inquiries, day.referrals) == (1, 1)


def test_membership_needs_consent_no_stop_and_an_active_file():
    history = [
        ev(AuditType.CLIENT_CREATED, at(0)),
        ev(AuditType.CONSENT_GIVEN, at(1)),
        ev(AuditType.OPTED_OUT, at(2)),
        ev(AuditType.OPTED_IN, at(3)),
        ev(AuditType.CLIENT_STATUS, at(4), status="suspended", conduct=True),
        ev(AuditType.CLIENT_STATUS, at(5), status="active"),
        ev(AuditType.CONSENT_WITHDRAWN, at(6)),
    ]
    assert [u.member_at(history, at(h, 30)) for h in range(7)] == [False, True, False, True, False, True, False]
    assert u.membership_delta({"c1": history}, START, at(1, 30)) == 1


def test_a_roll_up_reads_back_as_the_same_day():
    day = facts(ev(AuditType.MESSAGE_FILED, at(1), client="a", direction="inbound", kind="client"),
                ev(AuditType.SURVEY_SCORED, at(2), score=4))
    from dataclasses import replace

    day = replace(day, active_end=7)
    assert u.UsageDay.from_item(DAY, day.to_item()) == day


def test_the_mean_score_has_two_decimals_and_is_null_without_responses():
    day = facts(*(ev(AuditType.SURVEY_SCORED, at(i), score=s) for i, s in enumerate((4, 5, 5))))
    assert u.combine([day], 0).survey_mean_score == 4.67
    assert u.combine([], 0).survey_mean_score is None


def test_table7_rows_cover_every_statistic_once():
    assert sorted(name for name, _label in u.TABLE7_ROWS) == sorted(u.USAGE_FIELDS)
