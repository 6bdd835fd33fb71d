"""An in-memory unit of work for service tests: the repository methods services call, no DynamoDB.

Writes are queued like the real ``UnitOfWork``'s and applied on ``commit``, all or nothing: every
queued write's condition is checked first (a file's version, a claim already taken, a contact row
in use), then all of them are applied. ``world`` holds the data the test reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from chalicelib.adapters.unit_of_work import ConcurrentUpdate
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messages import Message, MessageStatus
from chalicelib.domain.model import Client, WorkNumber


@dataclass
class World:
    clients: dict[str, Client] = field(default_factory=dict)
    numbers: list[WorkNumber] = field(default_factory=list)
    staff: Any = None  # an object with get(agency, staff_id) and list(agency)
    audit: list[AuditEvent] = field(default_factory=list)
    claims: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)  # what happened to automated sends, in order
    followup_rows: list[Message] = field(default_factory=list)  # the workers' follow-up lists

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


def _known(client: Client, changes: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(client)}
    return {k: v for k, v in changes.items() if k in names}


class FakeUnitOfWork:
    def __init__(self, world: World) -> None:
        self.world = world
        self._writes: list[tuple[Callable[[], None], Callable[[], None]]] = []
        self.clients = _Clients(self)
        self.numbers = _Numbers(self)
        self.staff = world.staff
        self.audit = _Audit(self)
        self.claims = _Claims(self)
        self.messages = _Messages(self)
        self.inquiries = _Inquiries()
        self.followups = _Followups(self)

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self._writes = []

    def queue(self, apply: Callable[[], None], check: Callable[[], None] = lambda: None) -> None:
        self._writes.append((check, apply))

    def commit_unless_changed(self) -> bool:
        try:
            self.commit()
        except ConcurrentUpdate:
            return False
        return True

    def commit(self) -> None:
        writes, self._writes = self._writes, []
        for check, _ in writes:
            check()
        for _, apply in writes:
            apply()


class _Clients:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def get(self, client_id: str) -> Client | None:
        return self._world.clients.get(client_id)

    def of_case_manager(self, agency_id: str, staff_id: str) -> list[Client]:
        return [c for c in self._world.clients.values() if (c.agency_id, c.case_manager_id) == (agency_id, staff_id)]

    def of_agency(self, agency_id: str) -> list[Client]:
        return [c for c in self._world.clients.values() if c.agency_id == agency_id]

    def due_ids(self, agency_id: str, now: datetime) -> list[str]:
        return [c.client_id for c in self.of_agency(agency_id)]

    def last_inbound(self, client_ids: Iterable[str]) -> dict[str, datetime | None]:
        return {i: self._world.clients[i].last_inbound_at for i in client_ids if i in self._world.clients}

    def closed_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        return sorted(c.client_id for c in self.of_agency(agency_id) if c.closed_at is not None and c.closed_at <= cutoff)

    def ended_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        return []

    def add(self, client: Client, created_by: str) -> None:
        def check() -> None:
            for other in self._world.clients.values():
                if (other.agency_id, other.channel, other.phone) == (client.agency_id, client.channel, client.phone):
                    raise Conflict("exists", code="client_exists")

        self._uow.queue(lambda: self._world.clients.__setitem__(client.client_id, client), check)

    def update(self, client: Client, changes: dict[str, Any]) -> None:
        def check() -> None:
            current = self._world.clients.get(client.client_id)
            if current is None or current.version != client.version:
                raise ConcurrentUpdate(client.client_id)

        def apply() -> None:
            current = self._world.clients[client.client_id]
            self._world.clients[client.client_id] = replace(current, version=current.version + 1,
                                                            **_known(current, changes))

        self._uow.queue(apply, check)

    def forget_contact(self, client: Client) -> None:
        pass


class _Numbers:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._world = uow.world

    def of(self, agency_id: str, staff_id: str) -> list[WorkNumber]:
        return [n for n in self._world.numbers if (n.agency_id, n.staff_id) == (agency_id, staff_id)]


class _Audit:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def add(self, events: Iterable[AuditEvent]) -> None:
        events = list(events)
        self._uow.queue(lambda: self._world.audit.extend(events))

    def append(self, events: Iterable[AuditEvent]) -> None:
        self._world.audit.extend(events)

    def of_client(self, client_id: str) -> list[Any]:
        return []

    def erase_free_text(self, client_id: str) -> None:
        pass


class _Claims:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def add(self, key: str, at: datetime, ttl: Any, exception: Callable[[], Exception], **_: Any) -> None:
        def check() -> None:
            if key in self._world.claims:
                raise exception()

        self._uow.queue(lambda: self._world.claims.add(key), check)

    def release(self, keys: Iterable[str]) -> None:
        self._world.claims.difference_update(keys)


class _Messages:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def of_client(self, client_id: str, *, consistent: bool = False) -> list[Message]:
        return [m for m in self._world.messages if m.client_id == client_id]

    def add(self, message: Message) -> None:
        self._uow.queue(lambda: self._world.messages.append(message))

    def erase(self, message: Message) -> None:
        self._world.messages = [m if m is not message else replace(m, body=None, media=())
                                for m in self._world.messages]

    def automated_outcome(self, message: Message, status: MessageStatus, **_: Any) -> None:
        self._world.outcomes.append({MessageStatus.QUEUED: "retry"}.get(status, status.value))

    def sent(self, message: Message, *, sid: str, now: datetime, template: str | None,
             inquiry_id: str | None = None) -> None:
        """sending -> sent, on the message's status (queued: applied on commit)."""
        def check() -> None:
            current = next((m for m in self._world.messages if m.message_id == message.message_id), None)
            if current is None or current.status is not MessageStatus.SENDING:
                raise ConcurrentUpdate(message.message_id)

        def apply() -> None:
            self._world.messages = [
                replace(m, status=MessageStatus.SENT, twilio_sid=sid, sent_at=now, due_at=None,
                        template=template or m.template) if m.message_id == message.message_id else m
                for m in self._world.messages]
            self._world.outcomes.append(MessageStatus.SENT.value)

        self._uow.queue(apply, check)


class _Inquiries:
    def get(self, inquiry_id: str) -> None:
        return None

    def many(self, inquiry_ids: Iterable[str]) -> dict[str, Any]:
        return {}

    def of_client(self, client_id: str) -> list[Any]:
        return []


class _Followups:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def add(self, message: Message) -> None:
        self._uow.queue(lambda: self._world.followup_rows.append(message))
