"""The filing one delivery writes, built from the rules' decision (chalicelib.domain.filing)."""

from __future__ import annotations

from chalicelib.domain import inbound as rules
from chalicelib.domain.audit import AuditType
from chalicelib.domain.filing import ClientSnapshot, Delivery, plan_filing
from chalicelib.domain.messages import Content, Direction, Location, MessageKind
from chalicelib.domain.model import Channel, WorkNumber
from tests.unit.test_inbound_rules import CALGARY, MONDAY_10, a_client, local

AMAL_NUMBER = WorkNumber(number="+15873550101", agency_id="calgary-cfn", staff_id="amal",
                         channels=frozenset({Channel.WHATSAPP, Channel.SMS}))


def plan(body: str, client=None, at=MONDAY_10, *, media=(), content=None, snapshot=None):
    snapshot = snapshot or (ClientSnapshot(client, None, None) if client is not None else None)
    state = rules.FileState(client, snapshot.last_auto_reply_period) if client is not None else None
    arrival = rules.Arrival(Channel.WHATSAPP, body, at, None, len(media),
                            has_substance=(content or Content()).has_substance())
    decision = rules.decide(arrival, state, CALGARY)
    delivery = Delivery("SM" + "a" * 32, Channel.WHATSAPP, body, tuple(media), content or Content())
    return decision, plan_filing(delivery, AMAL_NUMBER, snapshot, decision, at)


def types(filing) -> list[AuditType]:
    return [e.type for e in filing.events]


def test_a_question_in_hours_files_the_message_and_opens_its_inquiry():
    decision, p = plan("When is my appointment?", a_client())
    inquiry = p.filing.open_inquiry
    assert inquiry is not None and inquiry.staff_id == "amal" and inquiry.due_at == decision.due_at
    assert p.message is not None and p.message.inquiry_id == inquiry.inquiry_id
    assert p.message.direction is Direction.INBOUND and p.message.twilio_sid == "SM" + "a" * 32
    assert p.filing.client_changes["open_inquiry_id"] == inquiry.inquiry_id
    assert p.filing.client_changes["last_inbound_preview"] == "When is my appointment?"
    assert types(p.filing) == [AuditType.INQUIRY_OPENED, AuditType.MESSAGE_FILED]
    assert p.reply_text is None and p.filing.joined_inquiry_id is None


def test_a_second_message_joins_the_open_inquiry_and_opens_none():
    _, p = plan("and one more thing", a_client(open_inquiry_id="inq_1"))
    assert p.filing.open_inquiry is None and p.filing.joined_inquiry_id == "inq_1"
    assert p.message is not None and p.message.inquiry_id == "inq_1"
    assert types(p.filing) == [AuditType.MESSAGE_FILED]


def test_after_hours_the_automatic_reply_is_filed_after_the_message_and_answers_nothing():
    _, p = plan("hello?", a_client(), at=local("2026-11-23T20:00"))
    client_msg, reply = p.filing.messages
    assert reply.kind is MessageKind.AUTO_REPLY and reply.at > client_msg.at and reply.inquiry_id is None
    assert p.reply_text == reply.body and p.filing.open_inquiry is not None
    assert types(p.filing)[-2:] == [AuditType.AUTO_REPLY_SENT, AuditType.MESSAGE_FILED]


def test_a_stranger_is_refused_with_nothing_filed_and_no_body_in_the_audit():
    _, p = plan("my secret story", None)
    assert p.message is None and p.filing.messages == [] and p.filing.client_changes == {}
    (refused,) = p.filing.events
    assert refused.type is AuditType.MESSAGE_REFUSED and refused.details["reason"] == "no_file"
    assert "my secret story" not in repr(refused.details)


def test_a_location_without_text_is_kept_with_the_message():
    where = Content(location=Location(latitude=51.05, longitude=-114.07, address="Centre Street", label="Clinic"))
    _, p = plan("", a_client(), content=where)
    assert p.message is not None and p.message.content.location == where.location
    assert p.filing.open_inquiry is not None


def test_what_the_decision_read_is_what_the_write_is_conditioned_on():
    client = a_client()
    _, p = plan("hello", snapshot=ClientSnapshot(client, "2026-11-20", None), client=client)
    assert p.filing.read_auto_reply_period == "2026-11-20" and p.filing.read_survey_scored_at is None


def test_stop_while_waiting_takes_the_file_out_of_the_inbox_and_ends_its_inquiry():
    decision, p = plan("STOP", a_client(open_inquiry_id="inq_1"))
    assert decision.ends_inquiry == "inq_1" and p.filing.ended_inquiry_id == "inq_1"
    changes = p.filing.client_changes
    assert changes["opted_out"] is True
    assert changes["open_inquiry_id"] is None and changes["open_inquiry_due_at"] is None
    assert AuditType.INQUIRY_OPTED_OUT in types(p.filing)
    ended = [e for e in p.filing.events if e.type is AuditType.INQUIRY_OPTED_OUT]
    assert ended[0].details["inquiry_id"] == "inq_1"


def test_stop_with_nothing_waiting_ends_no_inquiry():
    decision, p = plan("STOP", a_client())
    assert decision.ends_inquiry is None and p.filing.ended_inquiry_id is None
    assert "open_inquiry_id" not in p.filing.client_changes
    assert AuditType.INQUIRY_OPTED_OUT not in types(p.filing)
