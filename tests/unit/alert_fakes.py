"""In-memory stand-ins for what crisis alerts and the notification centre use (issue 23).

An extension of ``tests/unit/fakes.py``'s unit of work, kept apart so that file stays as it is:
notifications (a person's partition keyed by the same sort keys and public ids as the real
repository, with the ``unread`` index's counts), inquiries (versioned like the real table: a stale
``mark_crisis`` fails the commit), the staff roles ``ids_with_role`` reads, the voice-note claim,
and the messages a crisis mark finds and changes. Writes are queued and checked on ``commit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.adapters.keys import sort_key
from chalicelib.adapters.notifications_repository import public_id, sk_of
from chalicelib.adapters.unit_of_work import ConcurrentUpdate
from chalicelib.domain.audit import new_id
from chalicelib.domain.inquiry import Inquiry
from chalicelib.domain.messages import Message
from chalicelib.domain.model import Role
from chalicelib.domain.notifications import Notification
from tests.unit.fakes import FakeUnitOfWork, World, _Claims, _Messages


@dataclass
class AlertWorld(World):
    # (agency#staff, sort key) -> the notification as stored
    notes: dict[tuple[str, str], Notification] = field(default_factory=dict)
    inquiries: dict[str, Inquiry] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)  # staff id -> role, one agency
    commits: int = 0

    def uow(self) -> AlertUnitOfWork:  # type: ignore[override]
        return AlertUnitOfWork(self)

    def notes_of(self, staff_id: str, kind: str | None = None) -> list[Notification]:
        return [n for (who, _sk), n in sorted(self.notes.items(), reverse=True)
                if who.endswith("#" + staff_id) and (kind is None or n.type == kind)]


class AlertUnitOfWork(FakeUnitOfWork):
    def __init__(self, world: AlertWorld) -> None:
        super().__init__(world)
        self.world: AlertWorld = world
        self.notifications = _Notifications(self)
        self.inquiries = _Inquiries(self)  # type: ignore[assignment]
        self.staff = _Staff(world)
        self.claims = _AlertClaims(self)
        self.messages = _AlertMessages(self)

    def commit(self) -> None:
        super().commit()
        self.world.commits += 1


class _Staff:
    def __init__(self, world: AlertWorld) -> None:
        self._world = world

    def ids_with_role(self, agency_id: str, role: Role) -> list[str]:
        return sorted(who for who, r in self._world.roles.items() if r is role)


class _AlertClaims(_Claims):
    def taken(self, key: str) -> bool:
        return key in self._world.claims


class _AlertMessages(_Messages):
    def find(self, client_id: str, message_id: str) -> Message | None:
        return next((m for m in self._world.messages if (m.client_id, m.message_id) == (client_id, message_id)), None)

    def mark_crisis(self, message: Message, crisis: bool) -> None:
        def apply() -> None:
            self._world.messages = [replace(m, crisis=crisis) if m.message_id == message.message_id else m
                                    for m in self._world.messages]

        self._uow.queue(apply)


class _Inquiries:
    def __init__(self, uow: AlertUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def get(self, inquiry_id: str) -> Inquiry | None:
        return self._world.inquiries.get(inquiry_id)

    def many(self, inquiry_ids: Iterable[str]) -> dict[str, Inquiry]:
        return {i: self._world.inquiries[i] for i in inquiry_ids if i in self._world.inquiries}

    def of_client(self, client_id: str) -> list[Inquiry]:
        return [i for i in self._world.inquiries.values() if i.client_id == client_id]

    def add(self, inquiry: Inquiry) -> None:
        self._uow.queue(lambda: self._world.inquiries.__setitem__(inquiry.inquiry_id, inquiry))

    def mark_crisis(self, inquiry: Inquiry, crisis: bool = True) -> None:
        def check() -> None:
            current = self._world.inquiries.get(inquiry.inquiry_id)
            if current is None or current.version != inquiry.version:
                raise ConcurrentUpdate(inquiry.inquiry_id)

        def apply() -> None:
            self._world.inquiries[inquiry.inquiry_id] = replace(inquiry, crisis=crisis, version=inquiry.version + 1)

        self._uow.queue(apply, check)


class _Notifications:
    """The notifications repository's behaviour, in memory (same sort keys and public ids)."""

    def __init__(self, uow: AlertUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def add(self, agency_id: str, notifications: Iterable[Notification]) -> None:
        for note in list(notifications):
            key = (f"{agency_id}#{note.recipient_id}", sort_key(note.at, note.notification_id or new_id("nt")))

            def check(key: tuple[str, str] = key) -> None:
                if key in self._world.notes:
                    raise ConcurrentUpdate(key[1])

            def apply(key: tuple[str, str] = key, note: Notification = note) -> None:
                self._world.notes[key] = replace(note, notification_id=public_id(key[1]))

            self._uow.queue(apply, check)

    def _mine(self, agency_id: str, staff_id: str) -> list[tuple[str, Notification]]:
        who = f"{agency_id}#{staff_id}"
        return sorted(((sk, n) for (r, sk), n in self._world.notes.items() if r == who), reverse=True)

    def of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        return [n for _sk, n in self._mine(agency_id, staff_id)][:limit]

    def unread_of(self, agency_id: str, staff_id: str, limit: int) -> list[Notification]:
        return [n for _sk, n in self._mine(agency_id, staff_id) if not n.read][:limit]

    def unread_count(self, agency_id: str, staff_id: str, types: Iterable[str] | None = None) -> int:
        wanted = set(types) if types is not None else None
        return sum(1 for _sk, n in self._mine(agency_id, staff_id)
                   if not n.read and (wanted is None or n.type in wanted))

    def mark(self, agency_id: str, staff_id: str, notification_id: str, read: bool = True) -> Notification | None:
        key = (f"{agency_id}#{staff_id}", sk_of(notification_id) or "")
        note = self._world.notes.get(key)
        if note is None:
            return None
        self._world.notes[key] = replace(note, read=read)
        return self._world.notes[key]

    def mark_all_read(self, agency_id: str, staff_id: str) -> int:
        unread = [(sk, n) for sk, n in self._mine(agency_id, staff_id) if not n.read]
        for sk, note in unread:
            self._world.notes[(f"{agency_id}#{staff_id}", sk)] = replace(note, read=True)
        return len(unread)

    def settle(self, agency_id: str, recipients: Iterable[str], at: datetime, notification_id: str) -> None:
        for staff_id in recipients:
            key = (f"{agency_id}#{staff_id}", sort_key(at, notification_id))
            if key in self._world.notes:
                self._world.notes[key] = replace(self._world.notes[key], read=True)

