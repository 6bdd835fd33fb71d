"""One contract, two stores: the in-memory fakes (``tests/unit/fakes.py``) and the DynamoDB
repositories on moto answer these checks alike (issue 20, item 11; STYLE.md "Shared fakes and
contract tests", after Chalice's todo sample running one test case against both its stores).

Each test runs twice, once per store. What a service test learns from the fakes is only as true as
this suite: a method the fakes implement and this suite does not check may still lie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.clients_repository import closing_changes, reopening_changes
from chalicelib.adapters.unit_of_work import AlreadyFiled, ConcurrentUpdate, Duplicate
from chalicelib.domain.audit import AuditEvent, AuditType
from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.followups import FollowupKind
from chalicelib.domain.inbound import Refusal
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageRef, MessageStatus
from chalicelib.domain.model import Channel, Client, ClientStatus
from chalicelib.domain.notes import Note
from chalicelib.domain.snippets import Snippet
from tests.unit.fakes import World

AGENCY, OTHER_AGENCY = "calgary-cfn", "halifax-isans"
NOW = datetime(2026, 11, 18, 17, tzinfo=UTC)
PHONE = "+15875550123"


class FakeStore:
    name = "fake"

    def __init__(self) -> None:
        self.world = World()
        self.uow: Callable[[], Any] = self.world.uow

    def attribute(self, client_id: str, name: str) -> Any:
        """An attribute of the client's item that ``Client`` does not carry."""
        return self.world.stored.get(client_id, {}).get(name)


class DynamoStore:
    name = "dynamodb"

    def __init__(self) -> None:
        from chalicelib.adapters.unit_of_work import UnitOfWork

        self.uow = UnitOfWork

    def attribute(self, client_id: str, name: str) -> Any:
        from chalicelib.adapters import models as m

        return getattr(m.ClientModel.get(client_id, consistent_read=True), name)


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> FakeStore | DynamoStore:
    if request.param == "fake":
        return FakeStore()
    request.getfixturevalue("aws")
    return DynamoStore()


def a_file(store: Any, client_id: str, *, phone: str = PHONE, agency: str = AGENCY, **changes: Any) -> Client:
    """A new file through ``add``, then ``changes`` through ``update``; the file as read back."""
    with store.uow() as uow:
        uow.clients.add(Client(client_id, agency, "amal", phone, Channel.SMS, "en", "Fatima", ClientStatus.ACTIVE,
                               NOW - timedelta(days=30), version=1), created_by="admin-lee")
        uow.commit()
    if changes:
        change(store, client_id, changes)
    found = store.uow().clients.get(client_id)
    assert found is not None
    return found


def change(store: Any, client_id: str, changes: dict[str, Any]) -> Client:
    with store.uow() as uow:
        uow.clients.update(uow.clients.get(client_id), changes)
        uow.commit()
    return store.uow().clients.get(client_id)


def forget(store: Any, client: Client) -> None:
    with store.uow() as uow:
        uow.clients.forget_contact(client)
        uow.commit()


# -- the contact row: add, id_for, forget_contact ------------------------------------------------------


def test_a_file_is_found_by_its_number_until_its_contact_is_forgotten(store):
    fatima = a_file(store, "cl_a")
    assert store.uow().clients.id_for(AGENCY, Channel.SMS, PHONE) == "cl_a"
    assert store.uow().clients.id_for(OTHER_AGENCY, Channel.SMS, PHONE) is None
    assert store.uow().clients.id_for(AGENCY, Channel.WHATSAPP, PHONE) is None

    forget(store, fatima)

    assert store.uow().clients.id_for(AGENCY, Channel.SMS, PHONE) is None
    assert store.uow().clients.get("cl_a").phone == PHONE  # the file itself is another write
    forget(store, fatima)  # a row already gone is no error


def test_a_number_in_use_opens_no_second_file_until_its_contact_is_forgotten(store):
    fatima = a_file(store, "cl_a")
    with pytest.raises(Conflict), store.uow() as uow:
        uow.clients.add(Client("cl_b", AGENCY, "jean", PHONE, Channel.SMS, "en", "F", ClientStatus.ACTIVE, NOW,
                               version=1), created_by="admin-lee")
        uow.commit()
    assert store.uow().clients.get("cl_b") is None

    forget(store, fatima)
    a_file(store, "cl_b")
    assert store.uow().clients.id_for(AGENCY, Channel.SMS, PHONE) == "cl_b"


def test_forgetting_a_contact_never_removes_another_files_row(store):
    fatima = a_file(store, "cl_a")
    forget(store, fatima)
    a_file(store, "cl_b")  # the number came back as a new client

    with pytest.raises(ConcurrentUpdate):
        forget(store, fatima)
    assert store.uow().clients.id_for(AGENCY, Channel.SMS, PHONE) == "cl_b"


def test_forgetting_a_contact_commits_with_the_rest_of_the_unit_of_work_or_not_at_all(store):
    fatima = a_file(store, "cl_a")
    change(store, "cl_a", {"name": "Fatima B."})  # fatima's version is now stale
    with pytest.raises(ConcurrentUpdate), store.uow() as uow:
        uow.clients.update(fatima, {"phone": None})
        uow.clients.forget_contact(fatima)
        uow.commit()
    assert store.uow().clients.id_for(AGENCY, Channel.SMS, PHONE) == "cl_a"


# -- update: every attribute the item has, not only Client's --------------------------------------


def test_an_update_keeps_what_client_does_not_carry_and_none_removes_it(store):
    a_file(store, "cl_a", last_inbound_preview="my cousin can take me in", open_inquiry_due_at=NOW,
           last_inbound_at=NOW - timedelta(hours=1))
    assert store.attribute("cl_a", "last_inbound_preview") == "my cousin can take me in"
    assert store.attribute("cl_a", "open_inquiry_due_at") == NOW

    erased = change(store, "cl_a", {"last_inbound_preview": None, "open_inquiry_due_at": None, "phone": None,
                                    "name": None, "erased_at": NOW})

    assert store.attribute("cl_a", "last_inbound_preview") is None
    assert store.attribute("cl_a", "open_inquiry_due_at") is None
    assert (erased.phone, erased.name, erased.erased_at, erased.last_inbound_at) == (
        "", "", NOW, NOW - timedelta(hours=1))


def test_an_update_with_a_stale_version_changes_nothing(store):
    first = a_file(store, "cl_a")
    change(store, "cl_a", {"warnings": 1})
    with pytest.raises(ConcurrentUpdate), store.uow() as uow:
        uow.clients.update(first, {"warnings": 5})
        uow.commit()
    assert store.uow().clients.get("cl_a").warnings == 1
    assert store.uow().clients.get("cl_a").version == first.version + 1


def test_an_update_of_an_attribute_the_table_lacks_fails(store):
    fatima = a_file(store, "cl_a")
    with pytest.raises(AttributeError), store.uow() as uow:
        uow.clients.update(fatima, {"favourite_colour": "blue"})


def test_closing_and_reopening_move_the_file_in_and_out_of_the_retention_indexes(store):
    a_file(store, "cl_a")
    closed = change(store, "cl_a", closing_changes(NOW))
    assert (closed.status, closed.closed_at, closed.ended_at) == (ClientStatus.CLOSED, NOW, NOW)
    assert store.attribute("cl_a", "ended_at") == NOW
    clients = store.uow().clients
    assert clients.closed_before(AGENCY, NOW) == ["cl_a"] and clients.ended_before(AGENCY, NOW) == ["cl_a"]
    assert clients.closed_before(AGENCY, NOW - timedelta(seconds=1)) == []
    assert clients.ended_before(AGENCY, NOW - timedelta(seconds=1)) == []
    assert clients.closed_before(OTHER_AGENCY, NOW) == []

    reopened = change(store, "cl_a", reopening_changes())
    assert (reopened.status, reopened.closed_at) == (ClientStatus.ACTIVE, None)
    assert store.attribute("cl_a", "ended_at") is None
    clients = store.uow().clients
    assert clients.closed_before(AGENCY, NOW) == [] and clients.ended_before(AGENCY, NOW) == []


# -- due_ids: the three sparse schedule indexes, read up to now ------------------------------------


def test_due_ids_are_the_agencys_files_scheduled_at_or_before_now_each_once(store):
    hour = timedelta(hours=1)
    a_file(store, "cl_followup", phone="+15875550001", followup_agency=AGENCY, next_followup_at=NOW - hour,
           survey_agency=AGENCY, next_survey_at=NOW - hour)  # due twice, listed once
    a_file(store, "cl_checkin", phone="+15875550002", checkin_agency=AGENCY, next_checkin_at=NOW)
    a_file(store, "cl_survey", phone="+15875550003", survey_agency=AGENCY, next_survey_at=NOW + hour)
    a_file(store, "cl_unscheduled", phone="+15875550004", next_followup_at=NOW - hour)  # no index key
    a_file(store, "cl_halifax", phone="+15875550005", agency=OTHER_AGENCY, followup_agency=OTHER_AGENCY,
           next_followup_at=NOW - hour)

    clients = store.uow().clients
    assert clients.due_ids(AGENCY, NOW - 2 * hour) == []
    assert clients.due_ids(AGENCY, NOW) == ["cl_followup", "cl_checkin"]
    assert clients.due_ids(AGENCY, NOW + hour) == ["cl_followup", "cl_checkin", "cl_survey"]
    assert clients.due_ids(OTHER_AGENCY, NOW) == ["cl_halifax"]


def test_a_file_taken_out_of_the_schedule_is_no_longer_due(store):
    a_file(store, "cl_a", followup_agency=AGENCY, next_followup_at=NOW - timedelta(days=1))
    assert store.uow().clients.due_ids(AGENCY, NOW) == ["cl_a"]
    change(store, "cl_a", {"followup_agency": None})  # what an opt-out or erasure writes
    assert store.uow().clients.due_ids(AGENCY, NOW) == []


# -- erase_free_text: what staff wrote about the client leaves its audit events ---------------------


def event(kind: AuditType, minutes: int, details: dict[str, Any], client_id: str = "cl_a") -> AuditEvent:
    return AuditEvent(AGENCY, kind, NOW + timedelta(minutes=minutes), "amal", client_id=client_id, staff_id="amal",
                      details=details, event_id=f"ev_{client_id}_{minutes}")


def details_of(store: Any, client_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(r.type, dict(r.details)) for r in store.uow().audit.of_client(client_id)]


def test_erasing_free_text_keeps_each_event_and_its_anonymous_details(store):
    store.uow().audit.append([
        event(AuditType.CONSENT_GIVEN, 1, {"form_version": "CFN-2026", "circle_of_care": ["Dr Farouk"]}),
        event(AuditType.CLIENT_WARNED, 2, {"reason": "insulted the receptionist", "warnings": "1"}),
        event(AuditType.OVERRIDE, 3, {"reason": "locks changed tonight", "message_id": "msg_1"}),
        event(AuditType.REVIEWED, 4, {"event_id": "ev_x", "kind": "override", "note": "justified: eviction"}),
        event(AuditType.CONSENT_WITHDRAWN, 5, {"reason": "moving to Toronto"}),
        event(AuditType.CLIENT_STATUS, 6, {"status": "closed", "reason": "asked us to stop"}),
        event(AuditType.MESSAGE_FILED, 7, {"direction": "inbound", "kind": "client"}),
        event(AuditType.CLIENT_WARNED, 8, {"reason": "shouted", "warnings": "1"}, client_id="cl_b"),
    ])

    store.uow().audit.erase_free_text("cl_a")

    assert details_of(store, "cl_a") == [
        ("consent.given", {"form_version": "CFN-2026"}),
        ("client.warned", {"warnings": "1"}),
        ("boundary.override", {"message_id": "msg_1"}),
        ("review.recorded", {"event_id": "ev_x", "kind": "override"}),
        ("consent.withdrawn", {}),
        ("client.status_changed", {"status": "closed"}),
        ("message.filed", {"direction": "inbound", "kind": "client"}),
    ]
    assert details_of(store, "cl_b") == [("client.warned", {"reason": "shouted", "warnings": "1"})]


# -- claims: each once-only claim, taken by one writer, and what taking it again means ---------------

SID = "SM" + "0123456789abcdef" * 2


def commit(store: Any, queue: Callable[[Any], Any]) -> Any:
    """``queue`` on a fresh unit of work, then commit it; what ``queue`` returned."""
    with store.uow() as uow:
        answer = queue(uow)
        uow.commit()
    return answer


def a_message(message_id: str, *, twilio_sid: str | None = None, staff: bool = True) -> Message:
    return Message(message_id, "cl_a", AGENCY, Direction.OUTBOUND if staff else Direction.INBOUND,
                   MessageKind.STAFF if staff else MessageKind.CLIENT, "See you at 2", NOW,
                   MessageStatus.SENT if staff else MessageStatus.RECEIVED, Channel.SMS, twilio_sid=twilio_sid)


class AlreadyDone(Exception):
    """What a service says a taken founding or review means (``on_taken``)."""


def test_a_message_sid_is_filed_once_until_an_erasure_releases_it(store):
    commit(store, lambda uow: uow.claims.file_inbound_once(SID, NOW))
    with pytest.raises(Duplicate):
        commit(store, lambda uow: uow.claims.file_inbound_once(SID, NOW + timedelta(hours=2)))

    store.uow().claims.release_for_erasure([a_message("msg_in", twilio_sid=SID, staff=False)])

    commit(store, lambda uow: uow.claims.file_inbound_once(SID, NOW + timedelta(hours=3)))


def test_a_refusal_without_a_file_is_claimed_once_per_reason_and_message_sid(store):
    commit(store, lambda uow: uow.claims.refuse_once(Refusal.AGENCY_NOT_CONFIGURED, SID, NOW))
    with pytest.raises(Duplicate):
        commit(store, lambda uow: uow.claims.refuse_once(Refusal.AGENCY_NOT_CONFIGURED, SID, NOW))
    commit(store, lambda uow: uow.claims.refuse_once(Refusal.SHORT_CODE_SENDER, SID, NOW))
    commit(store, lambda uow: uow.claims.file_inbound_once(SID, NOW))  # a claim of its own


def test_an_idempotency_key_keeps_its_requests_digest_until_an_erasure_releases_it(store):
    commit(store, lambda uow: uow.claims.remember_send("msg_a", "digest-1", NOW))
    assert store.uow().claims.send_fingerprint("msg_a") == "digest-1"
    assert store.uow().claims.send_fingerprint("msg_b") is None
    with pytest.raises(AlreadyFiled):
        commit(store, lambda uow: uow.claims.remember_send("msg_a", "digest-2", NOW))
    assert store.uow().claims.send_fingerprint("msg_a") == "digest-1"

    store.uow().claims.release_for_erasure([a_message("msg_a", twilio_sid="SM" + "f" * 32)])

    assert store.uow().claims.send_fingerprint("msg_a") is None
    commit(store, lambda uow: uow.claims.file_inbound_once("SM" + "f" * 32, NOW))  # its MessageSid went too


def test_a_follow_up_is_claimed_once_per_kind_client_and_period(store):
    commit(store, lambda uow: uow.claims.claim_followup(FollowupKind.FOLLOWUP, "cl_a", "2026-W48", "msg_1", NOW))
    with pytest.raises(Duplicate):
        commit(store, lambda uow: uow.claims.claim_followup(FollowupKind.FOLLOWUP, "cl_a", "2026-W48", "msg_2", NOW))
    commit(store, lambda uow: uow.claims.claim_followup(FollowupKind.FOLLOWUP, "cl_a", "2026-W49", "msg_3", NOW))
    commit(store, lambda uow: uow.claims.claim_followup(FollowupKind.CHECKIN, "cl_a", "2026-W48", "msg_4", NOW))
    commit(store, lambda uow: uow.claims.claim_followup(FollowupKind.FOLLOWUP, "cl_b", "2026-W48", "msg_5", NOW))


@pytest.mark.parametrize("claim", [
    lambda uow, at: uow.claims.reply_to_sender_once("9f2c", "intake", timedelta(days=1), at),
    lambda uow, at: uow.claims.alert_crisis_once("cl_a", at.date().isoformat(), at),
], ids=["intake-reply", "crisis-alert"])
def test_a_once_per_period_claim_is_read_free_then_taken_and_a_concurrent_one_loses_at_commit(store, claim):
    first, second = store.uow(), store.uow()
    assert claim(first, NOW) is True and claim(second, NOW) is True  # both read it free
    first.commit()
    with pytest.raises(ConcurrentUpdate):
        second.commit()
    assert commit(store, lambda uow: claim(uow, NOW + timedelta(minutes=5))) is False  # taken: nothing queued
    assert commit(store, lambda uow: claim(uow, NOW + timedelta(days=1))) is True  # the next day is another


def test_an_agency_is_founded_once(store):
    def found(agency: str, founder: str) -> Callable[[Any], None]:
        return lambda uow: uow.claims.found_agency(agency, founder, NOW, AlreadyDone)

    commit(store, found(AGENCY, "admin-lee"))
    with pytest.raises(AlreadyDone):
        commit(store, found(AGENCY, "admin-sam"))
    commit(store, found(OTHER_AGENCY, "admin-sam"))


def test_a_review_is_marked_once_and_read_back_in_its_agency_only(store):
    def review(agency: str, event_id: str, reviewer: str) -> Callable[[Any], None]:
        return lambda uow: uow.claims.mark_reviewed(agency, event_id, reviewer, NOW, AlreadyDone)

    assert store.uow().claims.reviews(AGENCY, []) == {}
    commit(store, review(AGENCY, "ev_1", "sup-sam"))
    with pytest.raises(AlreadyDone):
        commit(store, review(AGENCY, "ev_1", "sup-kim"))

    assert store.uow().claims.reviews(AGENCY, ["ev_1", "ev_2", "ev_1"]) == {"ev_1": (NOW, "sup-sam")}
    assert store.uow().claims.reviews(OTHER_AGENCY, ["ev_1"]) == {}


def test_a_post_bucket_takes_its_sends_per_second_then_refuses_until_the_next_second(store):
    claims = store.uow().claims
    assert [claims.take_post_slot(AGENCY, NOW, 2) for _ in range(3)] == [True, True, False]
    assert claims.take_post_slot(AGENCY, NOW + timedelta(milliseconds=999), 2) is False
    assert claims.take_post_slot(AGENCY, NOW + timedelta(seconds=1), 2) is True
    assert claims.take_post_slot(OTHER_AGENCY, NOW, 2) is True


# -- messages: found again by what they say of themselves, with no key of the store's --------------


def outbound(message_id: str, minutes: int, *, status: MessageStatus = MessageStatus.HELD,
             due_in: int | None = 0, agency: str = AGENCY, client_id: str = "cl_a") -> Message:
    """A staff message written ``minutes`` after NOW (to the microsecond), due ``due_in`` minutes after NOW."""
    at = NOW + timedelta(minutes=minutes, microseconds=123_457)
    return Message(message_id, client_id, agency, Direction.OUTBOUND, MessageKind.STAFF, f"body of {message_id}", at,
                   status, Channel.SMS, staff_id="amal",
                   due_at=NOW + timedelta(minutes=due_in) if due_in is not None else None)


def add_messages(store: Any, *messages: Message) -> None:
    with store.uow() as uow:
        for message in messages:
            uow.messages.add(message)
        uow.commit()


def test_a_message_read_back_is_found_again_by_its_ref_and_only_by_it(store):
    written = outbound("msg_a", 1)
    add_messages(store, written)
    [read] = store.uow().messages.of_client("cl_a")
    assert read.ref == written.ref == MessageRef("cl_a", "msg_a", written.at)

    found = store.uow().messages.get(read.ref)
    assert found is not None and (found.message_id, found.body, found.status) == ("msg_a", "body of msg_a",
                                                                                  MessageStatus.HELD)
    calgary = ZoneInfo("America/Edmonton")  # the same instant, told in the agency's zone
    assert store.uow().messages.get(MessageRef("cl_a", "msg_a", written.at.astimezone(calgary))) is not None
    assert store.uow().messages.get(MessageRef("cl_a", "msg_a", written.at + timedelta(microseconds=1))) is None
    assert store.uow().messages.get(MessageRef("cl_a", "msg_b", written.at)) is None
    assert store.uow().messages.get(MessageRef("cl_b", "msg_a", written.at)) is None


def test_due_names_the_agencys_waiting_outbound_messages_whose_time_has_come_soonest_first(store):
    add_messages(
        store,
        outbound("msg_later", 1, due_in=60),
        outbound("msg_queued", 2, status=MessageStatus.QUEUED, due_in=-5),
        outbound("msg_held", 3, due_in=-30),
        outbound("msg_lease", 4, status=MessageStatus.SENDING, due_in=0),
        outbound("msg_sent", 5, status=MessageStatus.SENT, due_in=None),
        outbound("msg_halifax", 6, agency=OTHER_AGENCY, client_id="cl_h", due_in=-30),
    )
    due = list(store.uow().messages.due(AGENCY, NOW))
    assert [ref.message_id for ref in due] == ["msg_held", "msg_queued", "msg_lease"]
    assert [store.uow().messages.get(ref).message_id for ref in due] == ["msg_held", "msg_queued", "msg_lease"]
    assert [ref.message_id for ref in store.uow().messages.due(OTHER_AGENCY, NOW)] == ["msg_halifax"]
    assert list(store.uow().messages.due(AGENCY, NOW - timedelta(hours=1))) == []


def test_bodies_are_read_by_ref_and_a_message_not_found_is_left_out(store):
    first, second = outbound("msg_a", 1), outbound("msg_b", 2)
    add_messages(store, first, second)
    missing = MessageRef("cl_a", "msg_c", NOW)
    assert store.uow().messages.bodies([first.ref, second.ref, missing, first.ref]) == {
        first.ref: "body of msg_a", second.ref: "body of msg_b"}
    assert store.uow().messages.bodies([]) == {}


# -- notes: append-only, newest first in pages, bound to their file and agency, erased with the file ---


def a_note(n: int, client_id: str = "cl_a", agency: str = AGENCY) -> Note:
    return Note(f"note_{client_id}_{n:02d}", client_id, agency, "amal", NOW + timedelta(minutes=n), f"note {n}")


def add_notes(store: Any, *notes: Note) -> None:
    with store.uow() as uow:
        for note in notes:
            uow.notes.add(note)
        uow.commit()


def test_notes_come_newest_first_page_by_page_and_only_the_files_own(store):
    add_notes(store, *(a_note(n) for n in range(5)), a_note(9, "cl_b"))
    notes = store.uow().notes
    seen, cursor = [], None
    while True:
        page = notes.page(AGENCY, "cl_a", after=cursor, limit=2)
        seen.append([n.body for n in page.notes])
        cursor = page.next
        if cursor is None:
            break
    assert seen == [["note 4", "note 3"], ["note 2", "note 1"], ["note 0"]]
    assert notes.page(OTHER_AGENCY, "cl_a", after=None, limit=10).notes == ()
    assert [n.body for n in notes.of_client(AGENCY, "cl_a")] == [f"note {n}" for n in range(5)]
    assert notes.of_client(OTHER_AGENCY, "cl_a") == []
    assert notes.page(AGENCY, "cl_a", after=None, limit=5).next is None  # exactly one page: no cursor
    with pytest.raises(InvalidInput):
        notes.page(AGENCY, "cl_a", after="bm90IGEga2V5", limit=2)


def test_a_note_is_written_once_and_with_the_rest_of_its_unit_of_work_or_not_at_all(store):
    a_file(store, "cl_a")
    add_notes(store, a_note(1))
    with pytest.raises(Conflict):
        add_notes(store, a_note(1))
    stale = store.uow().clients.get("cl_a")
    change(store, "cl_a", {"warnings": 1})
    with pytest.raises(ConcurrentUpdate), store.uow() as uow:
        uow.clients.update(stale, {})
        uow.notes.add(a_note(2))
        uow.commit()
    assert [n.note_id for n in store.uow().notes.of_client(AGENCY, "cl_a")] == ["note_cl_a_01"]


def test_an_empty_change_moves_the_files_version_and_nothing_else(store):
    before = a_file(store, "cl_a")
    with store.uow() as uow:  # what writing a note does to its file (services/notes.py)
        uow.clients.update(before, {})
        uow.notes.add(a_note(1))
        uow.commit()
    after = store.uow().clients.get("cl_a")
    assert after.version == before.version + 1
    assert replace(after, version=before.version) == before


def test_erasing_a_files_notes_removes_them_all_and_no_other_files(store):
    add_notes(store, *(a_note(n) for n in range(30)))  # more than one batch of 25
    add_notes(store, a_note(1, "cl_b"))
    assert store.uow().notes.erase_client("cl_a") == 30
    assert store.uow().notes.of_client(AGENCY, "cl_a") == []
    assert [n.note_id for n in store.uow().notes.of_client(AGENCY, "cl_b")] == ["note_cl_b_01"]
    assert store.uow().notes.erase_client("cl_a") == 0


# -- snippets: one list per agency, changes conditioned on the version read, seeded once ---------------


def a_snippet(snippet_id: str, version: int = 0, title: str = "Welcome", agency: str = AGENCY) -> Snippet:
    return Snippet(agency, snippet_id, title, "fr", "Bonjour {first_name}", NOW, "admin-lee", version)


def put(store: Any, snippet: Snippet) -> None:
    with store.uow() as uow:
        uow.snippets.put(snippet)
        uow.commit()


def test_a_snippet_is_created_once_then_changed_only_over_the_version_read(store):
    put(store, a_snippet("welcome"))
    with pytest.raises(ConcurrentUpdate):
        put(store, a_snippet("welcome"))  # a second "new" one
    put(store, a_snippet("welcome", version=1, title="Second"))
    with pytest.raises(ConcurrentUpdate):
        put(store, a_snippet("welcome", version=1, title="Lost"))
    found = store.uow().snippets.get(AGENCY, "welcome")
    assert (found.title, found.version, found.body, found.updated_by) == ("Second", 2, "Bonjour {first_name}",
                                                                          "admin-lee")
    assert store.uow().snippets.get(OTHER_AGENCY, "welcome") is None


def test_a_snippet_is_deleted_only_at_the_version_read(store):
    put(store, a_snippet("welcome"))
    put(store, a_snippet("welcome", version=1))
    with pytest.raises(ConcurrentUpdate), store.uow() as uow:
        uow.snippets.delete(a_snippet("welcome", version=1))
        uow.commit()
    with store.uow() as uow:
        uow.snippets.delete(a_snippet("welcome", version=2))
        uow.commit()
    assert store.uow().snippets.get(AGENCY, "welcome") is None


def test_seeding_happens_once_per_agency_and_the_marker_is_no_snippet(store):
    assert store.uow().snippets.of_agency(AGENCY) == ([], False)
    with store.uow() as uow:
        uow.snippets.seed(AGENCY, [a_snippet("holding-reply-fr")], NOW)
        uow.commit()
    found, seeded = store.uow().snippets.of_agency(AGENCY)
    assert seeded and [(s.snippet_id, s.version) for s in found] == [("holding-reply-fr", 1)]
    with pytest.raises(ConcurrentUpdate), store.uow() as uow:
        uow.snippets.seed(AGENCY, [a_snippet("holding-reply-en")], NOW)
        uow.commit()
    assert [s.snippet_id for s in store.uow().snippets.of_agency(AGENCY)[0]] == ["holding-reply-fr"]
    assert store.uow().snippets.get(AGENCY, "~seeded") is None
    assert store.uow().snippets.of_agency(OTHER_AGENCY) == ([], False)
