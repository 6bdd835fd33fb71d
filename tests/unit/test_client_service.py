"""The client-file use cases against an in-memory store: rules without DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.domain.model import Channel, Client, Principal, Role, Staff, WorkNumber
from chalicelib.services.clients import ClientService, CreateClient, GiveConsent, WithdrawConsent
from tests.unit.fakes import FakeUnitOfWork, World


class FakeStaff(dict):
    """The staff repository: members by (agency, staff id)."""

    def get(self, agency_id: str, staff_id: str) -> Staff | None:  # type: ignore[override]
        return super().get((agency_id, staff_id))


class FakeStore(World):
    """The client file's world in memory, with the repositories ClientService reads and writes."""

    def __init__(self) -> None:
        super().__init__(staff=FakeStaff())

    def __call__(self) -> FakeUnitOfWork:
        return self.uow()


AMAL = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
JEAN = Principal("jean", "calgary-cfn", frozenset({Role.WORKER}))
SUPERVISOR = Principal("sup", "calgary-cfn", frozenset({Role.SUPERVISOR}))
OTHER_ADMIN = Principal("adm", "ottawa-ociso", frozenset({Role.ADMIN}))


@pytest.fixture
def store() -> FakeStore:
    s = FakeStore()
    for staff_id in ("amal", "jean"):
        s.staff[("calgary-cfn", staff_id)] = Staff("calgary-cfn", staff_id, Role.WORKER, staff_id, None)  # type: ignore[arg-type]
    s.numbers.append(WorkNumber("+15873550101", "calgary-cfn", "amal", frozenset({Channel.SMS, Channel.WHATSAPP})))
    return s


def create(service: ClientService, who: Principal = AMAL, **fields: Any) -> Client:
    body = {"case_manager_id": "amal", "phone": "+15875550123", "channel": "sms", "language": "fr", "name": "J"}
    return service.create(who, CreateClient.parse({**body, **fields}))


def test_opening_a_file_records_an_audit_event(store):
    client = create(ClientService(store))
    assert client.consent.state.value == "none"
    assert [e.type for e in store.audit] == [AuditType.CLIENT_CREATED]
    assert store.audit[0].details["channel"] is Channel.SMS


def test_a_worker_without_a_number_for_the_channel_cannot_hold_the_file(store):
    with pytest.raises(Conflict):
        create(ClientService(store), JEAN, case_manager_id="jean")


def test_giving_consent_moves_the_file_to_given(store):
    service = ClientService(store)
    client = create(service)
    with time_machine.travel("2026-11-23T18:00:00+00:00", tick=False):
        updated = service.give_consent(AMAL, client.client_id, GiveConsent.parse(
            {"form_version": "v1", "signed_at": "2026-11-20T10:00:00-06:00", "channels": ["sms"]}))
    assert updated.consent.covers(Channel.SMS)
    assert store.audit[-1].type is AuditType.CONSENT_GIVEN


def test_withdrawing_consent_moves_the_file_to_withdrawn(store):
    service = ClientService(store)
    client = create(service)
    service.give_consent(AMAL, client.client_id, GiveConsent.parse(
        {"form_version": "v1", "signed_at": "2020-01-01T00:00:00Z", "channels": ["sms"]}))
    updated = service.withdraw_consent(AMAL, client.client_id, WithdrawConsent.parse({"reason": "asked"}))
    assert not updated.can_be_messaged()
    assert store.audit[-1].type is AuditType.CONSENT_WITHDRAWN
    assert store.audit[-1].details == {"reason": "asked"}


def test_colleague_cannot_read_the_file_and_other_agency_cannot_see_it(store):
    service = ClientService(store)
    client = create(service)
    with pytest.raises(Forbidden):
        service.get(JEAN, client.client_id)
    with pytest.raises(NotFound):
        service.get(OTHER_ADMIN, client.client_id)
    assert service.get(SUPERVISOR, client.client_id)[0] == client


def test_covering_colleague_may_read_the_file(store):
    service = ClientService(store, covering_for=lambda who: frozenset({"amal"}) if who.staff_id == "jean" else frozenset())
    client = create(service)
    assert service.get(JEAN, client.client_id)[0].client_id == client.client_id


def test_supervisor_cannot_change_consent(store):
    service = ClientService(store)
    client = create(service)
    with pytest.raises(Forbidden):
        service.withdraw_consent(SUPERVISOR, client.client_id, WithdrawConsent.parse({}))


def test_garbage_ids_are_not_found_without_a_lookup(store):
    with pytest.raises(NotFound):
        ClientService(store).get(AMAL, "../../etc/passwd")


def test_language_is_normalised_and_validated(store):
    assert create(ClientService(store), language="FR").language == "fr"
    with pytest.raises(InvalidInput) as err:
        create(ClientService(store), phone="+15875550199", language="français")
    assert err.value.field == "language"
