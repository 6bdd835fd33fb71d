"""The data-rights service with fakes: who may erase, what is erased, and a failing file never stops the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.messages import Direction, Message, MessageKind, MessageStatus
from chalicelib.domain.model import Channel, Client, ClientStatus, Principal, Role
from chalicelib.domain.policy import Policy
from chalicelib.services.data_rights import DataRightsService
from tests.unit.fakes import World

NOW = datetime(2026, 11, 18, 17, tzinfo=UTC)
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
WORKER = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
OTHER_ADMIN = Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN}))


def client(cid: str, status=ClientStatus.CLOSED, closed_days_ago: int = 800) -> Client:
    return Client(cid, "calgary-cfn", "amal", "+15875550123", Channel.SMS, "en", "Fatima", status,
                  NOW - timedelta(days=1000), closed_at=NOW - timedelta(days=closed_days_ago)
                  if status is ClientStatus.CLOSED else None, version=3)


class FakeFiles(World):
    """The agency's files in memory, with a bucket that fails for the ``broken`` ones."""

    def __init__(self, clients: list[Client], broken: frozenset[str] = frozenset()) -> None:
        super().__init__(clients={c.client_id: c for c in clients})
        self.broken = broken
        for c in clients:  # two messages each
            for k in (1, 2):
                self.messages.append(Message(f"msg_{c.client_id}_{k}", c.client_id, c.agency_id, Direction.INBOUND,
                                             MessageKind.CLIENT, "hello", NOW, MessageStatus.RECEIVED, c.channel))

    @property
    def store(self) -> FakeFiles:
        return self

    @property
    def erased(self) -> list[tuple[str, str, str]]:
        return [(e.client_id or "", e.actor, e.details["reason"]) for e in self.audit
                if e.type is AuditType.CLIENT_ERASED]

    # the bucket
    def keys_under(self, prefix: str) -> list[str]:
        if any(f"/{cid}/" in prefix for cid in self.broken):
            raise RuntimeError("the bucket is unreachable")
        return []

    def delete(self, keys: list[str]) -> int:
        return len(keys)


class FakePolicies:
    def __init__(self) -> None:
        from chalicelib.adapters.policy_loader import PolicyStore
        from chalicelib.config import PROJECT_ROOT

        self._real = PolicyStore(PROJECT_ROOT / "policies")

    def get(self, agency_id: str) -> Policy:
        return self._real.get(agency_id)

    def all(self) -> list[Policy]:
        return [self._real.get("calgary-cfn")]


def service(clients: list[Client], broken: frozenset[str] = frozenset()) -> tuple[DataRightsService, FakeFiles]:
    files = FakeFiles(clients, broken)
    return DataRightsService(files.uow, media=files, twilio=None, policies=FakePolicies()), files


def test_retention_erases_only_closed_files_past_the_period_and_survives_a_failure(time_machine):
    time_machine.move_to(NOW, tick=False)
    svc, files = service([client("old"), client("broken"), client("recent", closed_days_ago=100),
                          client("open", status=ClientStatus.ACTIVE)], broken=frozenset({"broken"}))
    assert svc.erase_expired() == {"erased": 1, "failed": 1}
    assert files.erased == [("old", "system", "retention")]
    assert svc.erase_expired() == {"erased": 0, "failed": 1}  # the erased one is not touched again


def test_retention_skips_a_file_re_opened_since_the_index_was_read(time_machine):
    time_machine.move_to(NOW, tick=False)
    svc, files = service([client("old")])
    files.store.clients["old"] = replace(files.store.clients["old"], status=ClientStatus.ACTIVE)
    assert svc.erase_expired() == {"erased": 0, "failed": 0}


@pytest.mark.parametrize(("who", "cid", "error"), [
    (WORKER, "old", Forbidden), (OTHER_ADMIN, "old", NotFound), (ADMIN, "missing", NotFound),
    (ADMIN, "open", Conflict), (ADMIN, "../etc", NotFound)])
def test_erasure_on_request_is_refused_unless_an_admin_asks_for_a_closed_file(who, cid, error):
    svc, files = service([client("old"), client("open", status=ClientStatus.ACTIVE)])
    with pytest.raises(error):
        svc.erase(who, cid)
    assert files.erased == []


def test_an_admin_erases_a_closed_file_once(time_machine):
    time_machine.move_to(NOW, tick=False)
    svc, files = service([client("old", closed_days_ago=1)])
    result = svc.erase(ADMIN, "old")
    assert result == {"client_id": "old", "erased_at": "2026-11-18T11:00:00-06:00", "messages_cleared": 2}
    assert files.erased == [("old", "admin-lee", "request")]
    with pytest.raises(NotFound):
        svc.erase(ADMIN, "old")


def test_erasure_forgets_the_contact_row_the_inbox_preview_and_the_free_text_in_the_audit(time_machine):
    from chalicelib.domain.audit import AuditEvent

    time_machine.move_to(NOW, tick=False)
    svc, files = service([])
    old = client("old", closed_days_ago=1)
    files.file(old, last_inbound_preview="my cousin can take me in", open_inquiry_due_at=NOW)
    files.audit += [
        AuditEvent("calgary-cfn", AuditType.CLIENT_WARNED, NOW - timedelta(days=9), "amal", client_id="old",
                   staff_id="amal", details={"reason": "shouted at the desk", "warnings": 1}),
        AuditEvent("calgary-cfn", AuditType.REVIEWED, NOW - timedelta(days=8), "sup", client_id="old",
                   staff_id="amal", details={"event_id": "ev_1", "kind": "override", "note": "justified"}),
    ]
    assert files.uow().clients.id_for("calgary-cfn", Channel.SMS, "+15875550123") == "old"

    svc.erase(ADMIN, "old")

    assert files.uow().clients.id_for("calgary-cfn", Channel.SMS, "+15875550123") is None
    assert "last_inbound_preview" not in files.stored["old"] and "open_inquiry_due_at" not in files.stored["old"]
    tombstone = files.clients["old"]
    assert (tombstone.phone, tombstone.name, tombstone.erased_at) == ("", "", NOW)
    assert [(r.type, dict(r.details)) for r in files.uow().audit.of_client("old")][:2] == [
        ("client.warned", {"warnings": 1}), ("review.recorded", {"event_id": "ev_1", "kind": "override"})]

