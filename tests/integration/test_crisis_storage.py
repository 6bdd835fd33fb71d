"""Issue 23's storage on moto: the crisis mark in the clients table and its ``waiting`` index, the
guard that announces a crisis once, the emergency contact, a message's crisis mark; and the
notifications contract, checked against both the in-memory fakes (``tests/unit/alert_fakes.py``)
and the DynamoDB repository, so what the service tests learn from the fakes holds on DynamoDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.unit_of_work import ConcurrentUpdate, UnitOfWork
from chalicelib.domain import inbound as rules
from chalicelib.domain.filing import ClientSnapshot, Delivery, plan_filing
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState, EmergencyContact, WorkNumber
from chalicelib.domain.notifications import REVIEW_TYPES, Notification
from tests.unit.alert_fakes import AlertWorld
from tests.unit.test_inbound_rules import CALGARY, local

MONDAY_10 = local("2026-11-23T10:00")
NUMBER = WorkNumber("+15873550101", "calgary-cfn", "amal", frozenset({Channel.WHATSAPP}))


def new_file(uow_factory: Any = UnitOfWork) -> Client:
    client = Client("cl_1", "calgary-cfn", "amal", "+15875550123", Channel.WHATSAPP, "en", "Fatima",
                    ClientStatus.ACTIVE, local("2026-11-01T10:00"),
                    consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.WHATSAPP})), version=1)
    with uow_factory() as uow:
        uow.clients.add(client, created_by="amal")
        uow.commit()
    found = uow_factory().clients.get("cl_1")
    assert found is not None
    return found


def filing_for(client: Client, body: str, at: datetime, sid: str):
    decision = rules.decide(rules.Arrival(Channel.WHATSAPP, body, at), rules.FileState(client), CALGARY)
    plan = plan_filing(Delivery(sid, Channel.WHATSAPP, body), NUMBER, ClientSnapshot(client, None, None), decision, at)
    return plan.filing


def commit(filing: Any) -> None:
    with UnitOfWork() as uow:
        uow.clients.file(filing)
        for msg in filing.messages:
            uow.messages.add(msg)
        if filing.open_inquiry is not None:
            uow.inquiries.add(filing.open_inquiry)
        uow.commit()


def test_a_crisis_is_carried_into_the_waiting_index_and_leaves_with_the_answer(aws: Any) -> None:
    client = new_file()
    commit(filing_for(client, "he will kill me", MONDAY_10, "SM" + "1" * 32))

    [waiting] = list(UnitOfWork().clients.waiting("calgary-cfn", "amal"))
    assert waiting.crisis_at == MONDAY_10  # projected: the inbox needs no second read
    filed = UnitOfWork().clients.get("cl_1")
    assert filed is not None and filed.crisis_at == MONDAY_10
    [message] = UnitOfWork().messages.of_client("cl_1")
    assert message.crisis

    with UnitOfWork() as uow:  # answered: what outgoing.py writes
        uow.clients.update(filed, {"open_inquiry_id": None, "open_inquiry_due_at": None, "crisis_at": None})
        uow.commit()
    assert list(UnitOfWork().clients.waiting("calgary-cfn", "amal")) == []
    answered = UnitOfWork().clients.get("cl_1")
    assert answered is not None and answered.crisis_at is None


def test_of_two_crisis_filings_read_at_once_only_the_first_announces_it(aws: Any) -> None:
    with UnitOfWork() as uow:  # an inquiry is open: both messages join it
        uow.clients.update(new_file(), {"open_inquiry_id": "inq_0", "open_inquiry_due_at": MONDAY_10})
        uow.commit()
    client = stored_file()
    first = filing_for(client, "he will kill me", MONDAY_10, "SM" + "2" * 32)
    second = filing_for(client, "please he will kill me", MONDAY_10 + timedelta(seconds=1), "SM" + "3" * 32)
    assert "crisis_at" in first.client_changes and "crisis_at" in second.client_changes

    commit(first)
    with pytest.raises(ConcurrentUpdate):  # read again, it finds the crisis and announces nothing
        commit(second)
    again = stored_file()
    assert again.crisis_at == MONDAY_10
    assert "crisis_at" not in filing_for(again, "please", MONDAY_10 + timedelta(seconds=2), "SM" + "4" * 32
                                         ).client_changes


def stored_file() -> Client:
    found = UnitOfWork().clients.get("cl_1")
    assert found is not None
    return found


def test_the_emergency_contact_and_a_messages_crisis_mark_round_trip(aws: Any) -> None:
    client = new_file()
    contact = EmergencyContact("Amina Haddad", "+14035550142", "sister")
    with UnitOfWork() as uow:
        uow.clients.update(client, {"emergency_contact": contact})
        uow.commit()
    stored = UnitOfWork().clients.get("cl_1")
    assert stored is not None and stored.emergency_contact == contact
    with UnitOfWork() as uow:
        uow.clients.update(stored, {"emergency_contact": None})
        uow.commit()
    gone = UnitOfWork().clients.get("cl_1")
    assert gone is not None and gone.emergency_contact is None

    commit(filing_for(gone, "a question", MONDAY_10, "SM" + "5" * 32))
    [message] = UnitOfWork().messages.of_client("cl_1")
    assert not message.crisis
    with UnitOfWork() as uow:
        uow.messages.mark_crisis(message, True)
        uow.commit()
    [marked] = UnitOfWork().messages.of_client("cl_1")
    assert marked.crisis and marked.version == message.version + 1
    with UnitOfWork() as uow, pytest.raises(ConcurrentUpdate):
        uow.messages.mark_crisis(message, False)  # the version read is stale now
        uow.commit()


# -- the notifications contract: the fakes and DynamoDB answer alike ------------------------------


T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def notifications(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return AlertWorld().uow
    request.getfixturevalue("aws")
    return UnitOfWork


def told(uow_factory: Any, *notes: Notification) -> None:
    with uow_factory() as uow:
        uow.notifications.add("calgary-cfn", notes)
        uow.commit()


def a_note(kind: str, minutes: int, who: str = "sup-maria") -> Notification:
    return Notification(who, kind, T0 + timedelta(minutes=minutes), "m", client_id="cl_1",
                        notification_id=f"{kind}-{minutes}")


def test_contract_newest_first_counts_marks_and_settles(notifications: Any) -> None:
    told(notifications, a_note("crisis", 0), a_note("breach", 5), a_note("override", 9), a_note("crisis", 2, "amal"))
    repo = notifications().notifications

    mine = repo.of("calgary-cfn", "sup-maria", 10)
    assert [n.type for n in mine] == ["override", "breach", "crisis"]
    assert mine[0].notification_id == "20261201T160900000000Z.override-9"
    assert (repo.unread_count("calgary-cfn", "sup-maria"), repo.unread_count("calgary-cfn", "sup-maria", REVIEW_TYPES)
            ) == (3, 2)
    assert repo.mark("calgary-cfn", "amal", mine[0].notification_id) is None
    marked = repo.mark("calgary-cfn", "sup-maria", mine[0].notification_id)
    assert marked is not None and marked.read
    assert [n.type for n in repo.unread_of("calgary-cfn", "sup-maria", 10)] == ["breach", "crisis"]
    repo.settle("calgary-cfn", ["sup-maria", "sup-none"], T0 + timedelta(minutes=5), "breach-5")
    assert repo.unread_count("calgary-cfn", "sup-maria", REVIEW_TYPES) == 0
    assert repo.of("calgary-cfn", "sup-none", 10) == []
    assert repo.mark_all_read("calgary-cfn", "sup-maria") == 1
    assert repo.unread_count("calgary-cfn", "sup-maria") == 0 and repo.unread_count("calgary-cfn", "amal") == 1


def test_contract_a_notification_written_twice_fails_the_commit(notifications: Any) -> None:
    told(notifications, a_note("crisis", 0))
    with pytest.raises(ConcurrentUpdate):
        told(notifications, a_note("crisis", 0))
