"""The follow-up run's decisions against in-memory fakes: no DynamoDB, no Twilio (issue 5)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.adapters.twilio_gateway import OutboundMessage, SendResult
from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, ConsentState, Role, Staff, WorkNumber
from chalicelib.domain.policy import Policy
from chalicelib.services.conduct import ChangeStatus, Warn
from chalicelib.services.followups import FollowupService, ListFollowups
from tests.conftest import ROOT
from tests.unit.fakes import World

EDMONTON = ZoneInfo("America/Edmonton")
CALGARY = Policy.from_dict(json.loads((ROOT / "policies" / "calgary-cfn.json").read_text(encoding="utf-8")))


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EDMONTON).astimezone(UTC)


def a_client(**overrides: Any) -> Client:
    base = Client(
        client_id="cl_1", agency_id="calgary-cfn", case_manager_id="amal", phone="+15875550123",
        channel=Channel.SMS, language="en", name="Fatima", status=ClientStatus.ACTIVE,
        created_at=local("2026-11-02T09:00"),
        consent=Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.SMS}),
                        recorded_at=local("2026-11-02T09:00")),
        next_followup_at=local("2026-11-09T10:00"), next_checkin_at=local("2026-12-02T10:00"),
        next_survey_at=local("2027-02-01T10:00"), version=2,
    )
    return replace(base, **overrides)


class Policies:
    def all(self) -> list[Policy]:
        return [CALGARY]

    def get(self, agency_id: str) -> Policy:
        if agency_id != CALGARY.agency_id:
            raise KeyError(agency_id)
        return CALGARY


class FakeStaff:
    """The staff repository: every id is a worker of that name."""

    def get(self, agency_id: str, staff_id: str) -> Staff:
        return Staff(agency_id, staff_id, Role.WORKER, staff_id.title(), local("2026-01-01T09:00"))


class FakeStore(World):
    """The agency's files in memory: one worker, Amal, with an SMS work number."""

    def __init__(self) -> None:
        super().__init__(staff=FakeStaff(),
                         numbers=[WorkNumber("+15873550101", "calgary-cfn", "amal", frozenset({Channel.SMS}))])

    @property
    def events(self) -> list[Any]:
        return self.audit


class Gateway:
    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(sid=f"SM{len(self.sent)}", status="queued")


@pytest.fixture
def world():
    store = FakeStore()
    gateway = Gateway()
    service = FollowupService(store.uow, Policies(), gateway, status_callback="https://x/webhooks/twilio/status")
    return store, store, gateway, service


def test_a_due_quiet_client_is_sent_one_follow_up_with_its_audit(world):
    store, fstore, gateway, service = world
    store.file(a_client())
    assert service.run(local("2026-11-09T10:05")) == {"sent": 1}
    [message] = gateway.sent
    assert message.from_number == "+15873550101" and message.body.startswith("Hello Fatima, this is Amal")
    # Filed before Twilio is asked; counted (followup.sent, the worker's row) once Twilio accepted it.
    assert [e.type for e in fstore.events] == [AuditType.MESSAGE_FILED, AuditType.FOLLOWUP_SENT]
    assert all(e.staff_id == "amal" and e.client_id == "cl_1" for e in fstore.events)
    assert "body" not in fstore.events[0].details and "to" not in fstore.events[0].details
    [filed] = store.messages
    assert fstore.events[1].details == {"kind": "followup", "message_id": filed.message_id}
    assert filed.status.value == "sent" and filed.twilio_sid == "SM1"
    assert [row.message_id for row in store.followup_rows] == [filed.message_id]


def test_a_follow_up_twilio_refuses_is_recorded_failed_and_counted_nowhere(world):
    from chalicelib.adapters.twilio_gateway import PermanentSendError

    store, fstore, gateway, service = world
    store.file(a_client())

    def refuse(message: OutboundMessage) -> SendResult:
        raise PermanentSendError("twilio refused the message (400)", "21610")

    gateway.send = refuse
    assert service.run(local("2026-11-09T10:05")) == {"failed": 1}
    assert store.outcomes == ["failed"]
    assert [e.type for e in fstore.events] == [AuditType.MESSAGE_FILED]  # no followup.sent
    assert store.followup_rows == []  # not in the worker's list either


def test_nothing_runs_before_the_slot_after_closing_or_at_the_weekend(world):
    store, fstore, gateway, service = world
    store.file(a_client())
    for at in ("2026-11-09T09:55", "2026-11-09T17:05", "2026-11-14T11:00"):
        assert service.run(local(at)) == {}
    assert gateway.sent == []


def test_a_run_reads_only_the_files_due_by_now(world):
    store, fstore, gateway, service = world
    store.file(a_client())  # follow-up due Mon 9 Nov 10:00
    store.file(a_client(client_id="cl_2", phone="+15875550124", next_followup_at=local("2026-11-16T10:00")))
    store.file(a_client(client_id="cl_3", phone="+15875550125"), followup_agency=None)  # out of the index
    assert service.run(local("2026-11-09T10:05")) == {"sent": 1}
    assert [m.to for m in gateway.sent] == ["+15875550123"]


def test_the_same_period_is_never_sent_twice_even_if_the_schedule_says_due(world):
    store, fstore, gateway, service = world
    store.file(a_client())
    service.run(local("2026-11-09T10:05"))
    store.file(replace(store.clients["cl_1"], next_followup_at=local("2026-11-09T10:00"), last_outbound_at=None))
    assert service.run(local("2026-11-09T10:20")) == {"already_sent": 1}
    assert len(gateway.sent) == 1
    assert store.clients["cl_1"].next_followup_at == local("2026-11-16T10:00")


def test_worker_without_a_number_for_the_channel_skips_the_period_with_a_reason(world):
    store, fstore, gateway, service = world
    store.numbers = []
    store.file(a_client())
    assert service.run(local("2026-11-09T10:05")) == {"no_work_number": 1}
    assert gateway.sent == []
    [event] = fstore.events
    assert event.type is AuditType.FOLLOWUP_SKIPPED and event.details == {"kind": "followup", "reason": "no_work_number"}


def test_whatsapp_inside_the_window_gets_free_text_and_outside_the_template(world):
    store, fstore, gateway, service = world
    store.numbers = [WorkNumber("+15873550101", "calgary-cfn", "amal", frozenset({Channel.WHATSAPP}))]
    whatsapp = Consent(state=ConsentState.GIVEN, channels=frozenset({Channel.WHATSAPP}),
                       recorded_at=local("2026-11-02T09:00"))
    # Due a check-in (sent whatever the activity) and wrote two hours ago: free text is allowed.
    store.file(a_client(channel=Channel.WHATSAPP, consent=whatsapp, next_checkin_at=local("2026-11-09T10:00"),
                        last_inbound_at=local("2026-11-09T08:05")))
    service.run(local("2026-11-09T10:05"))
    assert gateway.sent[-1].content_sid is None and "monthly check-in" in gateway.sent[-1].body
    # Quiet for a week: the approved template with its variables.
    store.file(replace(a_client(channel=Channel.WHATSAPP, consent=whatsapp), client_id="cl_2", phone="+15875550124"))
    del store.clients["cl_1"]
    service.run(local("2026-11-09T10:20"))
    assert gateway.sent[-1].content_sid == CALGARY.whatsapp_templates["followup"].content_sid
    assert dict(gateway.sent[-1].content_variables) == {"1": "Fatima", "2": "Amal"}


def test_a_bad_queued_batch_is_dropped_and_an_unknown_agency_sends_nothing(world):
    store, fstore, gateway, service = world
    assert service.process_batch("nonsense") == {"malformed": 1}
    assert service.process_batch({"agency_id": "nowhere", "client_ids": ["cl_1"]}) == {"unknown_agency": 1}


def test_list_and_conduct_commands_name_the_bad_field():
    with pytest.raises(InvalidInput) as err:
        ListFollowups.parse({"limit": "1000"})
    assert err.value.field == "limit"
    with pytest.raises(InvalidInput) as err:
        ListFollowups.parse({"staff_id": "a b"})
    assert err.value.field == "staff_id"
    with pytest.raises(InvalidInput) as err:
        Warn.parse({"reason": "  "})
    assert err.value.field == "reason"
    assert ChangeStatus.parse({"status": "active"}).reason is None
    assert ChangeStatus.parse({"status": "closed", "reason": "moved away"}).conduct is False
