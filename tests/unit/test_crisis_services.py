"""Issue 23's use cases with in-memory fakes (``tests/unit/alert_fakes.py``), no DynamoDB.

What a filed message tells (``InboundAlerts``), a worker's crisis mark (``CrisisMarks``), the
emergency contact (``EmergencyContacts``) and the notification centre (``NotificationCentre``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import inbound as rules
from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.inquiry import Inquiry, InquiryStatus
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageStatus
from chalicelib.domain.model import Channel, Principal, Role
from chalicelib.domain.notifications import Notification
from chalicelib.services.crisis import CrisisAlerts
from chalicelib.services.crisis_marks import CrisisMarks, MarkCrisis
from chalicelib.services.emergency_contacts import EmergencyContacts, SetEmergencyContact
from chalicelib.services.inbound_alerts import InboundAlerts
from chalicelib.services.notification_centre import ListNotifications, MarkNotification, NotificationCentre
from tests.unit.alert_fakes import AlertWorld
from tests.unit.test_inbound_rules import CALGARY, MONDAY_10, a_client, local

MONDAY_20 = local("2026-11-23T20:00")
ROLES = {"amal": Role.WORKER, "jean": Role.WORKER, "sup-maria": Role.SUPERVISOR, "sup-two": Role.SUPERVISOR,
         "admin-lee": Role.ADMIN}
AMAL = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
JEAN = Principal("jean", "calgary-cfn", frozenset({Role.WORKER}))
SUPERVISOR = Principal("sup-maria", "calgary-cfn", frozenset({Role.SUPERVISOR}))
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))


class Policies:
    def get(self, agency_id: str):
        if agency_id != "calgary-cfn":
            raise KeyError(agency_id)
        return CALGARY


def inquiry(at: datetime, crisis: bool = False) -> Inquiry:
    return Inquiry("inq_1", "calgary-cfn", "cl_1", "amal", InquiryStatus.OPEN, opened_at=at,
                   due_at=at + timedelta(hours=24), crisis=crisis)


def client_message(at: datetime, inquiry_id: str | None = "inq_1", message_id: str = "msg_1", **extra) -> Message:
    return Message(message_id, "cl_1", "calgary-cfn", Direction.INBOUND, MessageKind.CLIENT, "hello", at,
                   MessageStatus.RECEIVED, Channel.WHATSAPP, staff_id="amal", inquiry_id=inquiry_id, **extra)


def a_world(client=None, **kwargs) -> AlertWorld:
    world = AlertWorld(roles=dict(ROLES), **kwargs)
    world.file(client or a_client(language="en"))
    return world


def queue_alerts(world: AlertWorld, body: str, at: datetime, *, cover=None, media_types=(), opened=False):
    client = world.clients["cl_1"]
    arrival = rules.Arrival(Channel.WHATSAPP, body, at, None, len(media_types), media_types=tuple(media_types))
    decision = rules.decide(arrival, rules.FileState(client), CALGARY, cover=cover)
    alerts = InboundAlerts(CrisisAlerts(world.uow, gateway=None))
    with world.uow() as uow:
        alerts.queue(uow, decision, client, client_message(at, client.open_inquiry_id or "inq_new"), CALGARY, at,
                     opened=opened)
        uow.commit()
    return decision


# -- what a filed message tells ---------------------------------------------------------------------


def test_a_crisis_word_while_open_tells_the_case_manager_and_every_supervisor_and_marks_the_joined_inquiry():
    world = a_world(replace(a_client(language="en"), open_inquiry_id="inq_1"))
    world.inquiries["inq_1"] = inquiry(MONDAY_10 - timedelta(minutes=30))

    queue_alerts(world, "he will kill me", MONDAY_10)

    for who in ("amal", "sup-maria", "sup-two"):
        [note] = world.notes_of(who, "crisis")
        assert note.client_id == "cl_1" and note.inquiry_id == "inq_1" and "kill" not in note.message
    assert world.notes_of("jean") == [] and world.notes_of("admin-lee") == []
    assert world.inquiries["inq_1"].crisis
    [event] = [e for e in world.audit if e.type is AuditType.CRISIS_ALERTED]
    assert event.details["to"] == ["amal", "sup-maria", "sup-two"] and event.details["while_open"] is True


def test_while_closed_only_the_on_call_person_is_told():
    world = a_world()

    queue_alerts(world, "he will kill me", MONDAY_20, opened=True)

    assert [n.recipient_id for (_who, _sk), n in world.notes.items()] == ["sup-maria"]  # Calgary's on_call
    assert world.notes_of("amal") == []


def test_a_covered_clients_crisis_goes_to_the_colleague_covering_with_the_new_message():
    cover = rules.Cover("jean", "Amal", "Jean", "leave-1:2026-11-23")
    world = a_world()

    queue_alerts(world, "he will kill me", MONDAY_10, cover=cover, opened=True)

    assert [n.type for n in world.notes_of("jean")] in (["crisis", "new_message"], ["new_message", "crisis"])
    assert world.notes_of("amal") == []
    assert len(world.notes_of("sup-maria", "crisis")) == 1


def test_a_voice_note_after_hours_tells_the_on_call_person_once_per_closed_period():
    world = a_world()

    queue_alerts(world, "", MONDAY_20, media_types=["audio/ogg"], opened=True)
    queue_alerts(world, "", MONDAY_20 + timedelta(minutes=5), media_types=["audio/ogg"])
    queue_alerts(world, "", local("2026-11-24T20:00"), media_types=["audio/ogg"])  # the next night

    notes = world.notes_of("sup-maria", "voice_note")
    assert len(notes) == 2 and {n.client_id for n in notes} == {"cl_1"}
    assert sum(1 for e in world.audit if e.type is AuditType.VOICE_NOTE_ALERTED) == 2


# -- a worker's crisis mark -------------------------------------------------------------------------


def marks(world: AlertWorld) -> CrisisMarks:
    return CrisisMarks(world.uow, covering_for=lambda principal: frozenset(),
                       cover_of=lambda agency, staff, at: None)


def test_marking_a_message_of_the_open_inquiry_marks_all_three_and_tells_everyone_but_the_marker():
    world = a_world(replace(a_client(language="en"), open_inquiry_id="inq_1"))
    world.inquiries["inq_1"] = inquiry(MONDAY_10)
    world.messages.append(client_message(MONDAY_10))

    outcome = marks(world).mark(AMAL, "cl_1", "msg_1", MarkCrisis(crisis=True, reason="she sounds desperate"))

    assert outcome.message.crisis and outcome.client.crisis_at is not None
    assert outcome.notified == ("sup-maria", "sup-two")
    assert world.clients["cl_1"].crisis_at is not None and world.inquiries["inq_1"].crisis
    assert world.messages[0].crisis
    [event] = [e for e in world.audit if e.type is AuditType.CRISIS_MARKED]
    assert event.actor == "amal" and event.details["reason"] == "she sounds desperate"

    again = marks(world).mark(AMAL, "cl_1", "msg_1", MarkCrisis(crisis=True))
    assert again.notified == () and len([e for e in world.audit if e.type is AuditType.CRISIS_MARKED]) == 1

    back = marks(world).mark(AMAL, "cl_1", "msg_1", MarkCrisis(crisis=False, reason="safe"))
    assert not back.message.crisis and back.client.crisis_at is None
    assert world.clients["cl_1"].crisis_at is None and not world.inquiries["inq_1"].crisis
    assert [e.details["reason"] for e in world.audit if e.type is AuditType.CRISIS_UNMARKED] == ["safe"]


def test_taking_one_mark_back_keeps_the_crisis_while_another_message_is_still_marked():
    world = a_world(replace(a_client(language="en"), open_inquiry_id="inq_1", crisis_at=MONDAY_10))
    world.inquiries["inq_1"] = inquiry(MONDAY_10, crisis=True)
    world.messages += [client_message(MONDAY_10, crisis=True),
                       client_message(MONDAY_10 + timedelta(minutes=1), message_id="msg_2", crisis=True)]

    marks(world).mark(AMAL, "cl_1", "msg_2", MarkCrisis(crisis=False))

    assert world.clients["cl_1"].crisis_at == MONDAY_10 and world.inquiries["inq_1"].crisis


def test_who_may_mark_and_what_cannot_be_marked():
    world = a_world(replace(a_client(language="en"), open_inquiry_id="inq_1"))
    world.inquiries["inq_1"] = inquiry(MONDAY_10)
    world.messages.append(client_message(MONDAY_10))
    world.messages.append(replace(client_message(MONDAY_10, message_id="msg_staff"), direction=Direction.OUTBOUND,
                                  kind=MessageKind.STAFF))
    with pytest.raises(Forbidden):
        marks(world).mark(SUPERVISOR, "cl_1", "msg_1", MarkCrisis(crisis=True))
    with pytest.raises(Forbidden):
        marks(world).mark(JEAN, "cl_1", "msg_1", MarkCrisis(crisis=True))
    with pytest.raises(NotFound):
        marks(world).mark(AMAL, "cl_1", "msg_none", MarkCrisis(crisis=True))
    with pytest.raises(Conflict):
        marks(world).mark(AMAL, "cl_1", "msg_staff", MarkCrisis(crisis=True))
    for bad in ({}, {"crisis": "true"}, {"crisis": 1}, {"crisis": True, "reason": ["x"]}, None):
        with pytest.raises(InvalidInput):
            MarkCrisis.parse(bad)
    assert MarkCrisis.parse({"crisis": True, "reason": " "}).reason is None  # a blank reason is no reason
    assert not any(m.crisis for m in world.messages) and world.notes == {}


# -- the emergency contact --------------------------------------------------------------------------


def test_the_emergency_contact_is_stored_in_e164_and_only_the_case_manager_or_an_admin_records_it():
    world = a_world()
    contacts = EmergencyContacts(world.uow, Policies())
    command = SetEmergencyContact.parse({"name": "Amina", "phone": "(403) 555-0142", "relation": "sister"})

    client = contacts.put(AMAL, "cl_1", command)

    assert client.emergency_contact is not None and client.emergency_contact.phone == "+14035550142"
    assert world.clients["cl_1"].emergency_contact == client.emergency_contact
    assert contacts.put(ADMIN, "cl_1", command).emergency_contact is not None
    for who in (SUPERVISOR, JEAN):
        with pytest.raises(Forbidden):
            contacts.put(who, "cl_1", command)
    with pytest.raises(InvalidInput):
        contacts.put(AMAL, "cl_1", SetEmergencyContact.parse({"name": "A", "phone": "555", "relation": "x"}))
    for bad in ({"name": "A", "relation": "x"}, {"name": "A", "phone": 4035550142, "relation": "x"},
                {"name": " ", "phone": "+14035550142", "relation": "x"}, {"name": "A", "phone": "+14035550142"}):
        with pytest.raises(InvalidInput):
            SetEmergencyContact.parse(bad)
    assert [e.details for e in world.audit if e.type is AuditType.EMERGENCY_CONTACT_SET] == [
        {"replaced": False}, {"replaced": True}]


# -- the notification centre ------------------------------------------------------------------------


def told(world: AlertWorld, *notes: Notification) -> None:
    with world.uow() as uow:
        uow.notifications.add("calgary-cfn", notes)
        uow.commit()


def note(kind: str, minutes: int, who: str = "sup-maria") -> Notification:
    return Notification(who, kind, MONDAY_10 + timedelta(minutes=minutes), "text", client_id="cl_1",
                        notification_id=f"{kind}-{minutes}", staff_id="amal")


def test_the_centre_lists_newest_first_with_names_and_counts_what_waits_for_a_review():
    world = a_world(replace(a_client(language="en"), name="Fatima Haddad"))
    told(world, note("crisis", 0), note("breach", 5), note("override", 9), note("crisis", 1, who="amal"))
    centre = NotificationCentre(world.uow, staff_names=lambda agency: {"amal": "Amal Haddad"})

    page = centre.list(SUPERVISOR, ListNotifications.parse({}))

    assert [n.type for n in page.notifications] == ["override", "breach", "crisis"]
    assert (page.unread, page.unread_reviews) == (3, 2)
    assert page.client_names == {"cl_1": "Fatima Haddad"} and page.staff_names["amal"] == "Amal Haddad"
    worker = centre.list(AMAL, ListNotifications.parse({"unread": "true", "limit": "5"}))
    assert (worker.unread, worker.unread_reviews) == (1, 0)

    centre.mark(SUPERVISOR, page.notifications[0].notification_id, MarkNotification.parse({"read": True}))
    assert centre.list(SUPERVISOR, ListNotifications()).unread_reviews == 1
    with pytest.raises(NotFound):
        centre.mark(JEAN, page.notifications[0].notification_id, MarkNotification(read=True))
    assert centre.mark_all_read(SUPERVISOR) == 2
    assert centre.list(SUPERVISOR, ListNotifications()).unread == 0
    assert centre.list(AMAL, ListNotifications()).unread == 1
    with pytest.raises(InvalidInput):
        ListNotifications.parse({"limit": "201"})
    with pytest.raises(InvalidInput):
        MarkNotification.parse({"read": "yes"})


def test_an_erased_clients_name_is_never_shown():
    world = a_world(replace(a_client(language="en"), erased_at=MONDAY_10, name=""))
    told(world, note("crisis", 0))

    page = NotificationCentre(world.uow).list(SUPERVISOR, ListNotifications())

    assert page.client_names == {"cl_1": None}
