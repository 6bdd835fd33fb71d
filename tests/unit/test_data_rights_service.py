"""The data-rights service with fakes: who may erase, what is erased, and a failing file never stops the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.audit import AuditType
from chalicelib.domain.errors import Conflict, Forbidden, NotFound
from chalicelib.domain.model import Channel, Client, ClientStatus, Principal, Role
from chalicelib.domain.policy import Policy
from chalicelib.services.data_rights import DataRightsService

NOW = datetime(2026, 11, 18, 17, tzinfo=UTC)
ADMIN = Principal("admin-lee", "calgary-cfn", frozenset({Role.ADMIN}))
WORKER = Principal("amal", "calgary-cfn", frozenset({Role.WORKER}))
OTHER_ADMIN = Principal("admin-h", "halifax-isans", frozenset({Role.ADMIN}))


def client(cid: str, status=ClientStatus.CLOSED, closed_days_ago: int = 800) -> Client:
    return Client(cid, "calgary-cfn", "amal", "+15875550123", Channel.SMS, "en", "Fatima", status,
                  NOW - timedelta(days=1000), closed_at=NOW - timedelta(days=closed_days_ago)
                  if status is ClientStatus.CLOSED else None, version=3)


class FakeStore:
    def __init__(self, clients: list[Client]) -> None:
        self.clients = {c.client_id: c for c in clients}

    def get_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)


class FakeFiles:
    def __init__(self, store: FakeStore, broken: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.broken = broken
        self.erased: list[tuple[str, str, str]] = []

    def closed_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        return sorted(c.client_id for c in self.store.clients.values()
                      if c.agency_id == agency_id and c.closed_at is not None and c.closed_at <= cutoff)

    def erase(self, client: Client, event, now: datetime) -> int:
        if client.client_id in self.broken:
            raise RuntimeError("the bucket is unreachable")
        assert event.type is AuditType.CLIENT_ERASED and event.client_id == client.client_id
        self.erased.append((client.client_id, event.actor, event.details["reason"]))
        self.store.clients[client.client_id] = replace(client, erased_at=now, phone="", name="")
        return 2


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
    store = FakeStore(clients)
    files = FakeFiles(store, broken)
    return DataRightsService(store, files, reads=None, policies=FakePolicies()), files


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
    assert result == {"client_id": "old", "erased_at": "2026-11-18T10:00:00-07:00", "messages_cleared": 2}
    assert files.erased == [("old", "admin-lee", "request")]
    with pytest.raises(NotFound):
        svc.erase(ADMIN, "old")
