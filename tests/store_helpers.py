"""Direct writes for tests that set a file up the way another feature would have left it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib import bootstrap
from chalicelib.domain.audit import AuditEvent


def update_client(client_id: str, changes: dict[str, Any], events: Iterable[AuditEvent] = ()) -> None:
    """Apply ``changes`` to the file (on its current version) with ``events``, as one unit of work."""
    with bootstrap.container().uow() as uow:
        client = uow.clients.get(client_id)
        assert client is not None, client_id
        uow.clients.update(client, changes)
        uow.audit.add(events)
        uow.commit()


def append_audit(events: Iterable[AuditEvent]) -> None:
    bootstrap.container().uow().audit.append(events)


def get_client(client_id: str) -> Any:
    return bootstrap.container().uow().clients.get(client_id)
