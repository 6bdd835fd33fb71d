"""An in-memory unit of work for service tests: the repository methods services call, no DynamoDB.

Writes are queued like the real ``UnitOfWork``'s and applied on ``commit``, all or nothing: every
queued write's condition is checked first (a file's version, a claim already taken, a contact row
in use), then all of them are applied. ``world`` holds the data the test reads back.

Each method does what its DynamoDB repository does (``chalicelib/adapters/*_repository.py``), so a
service test can fail for the reasons the real store would make it fail; the contract suite
(``tests/integration/test_repository_contract.py``) runs the same checks against both. A client
file is its ``Client`` plus the item attributes ``Client`` does not carry (``World.stored``: the
sparse index keys, ``ended_at``, the inbox's preview); the contacts table is ``World.contacts``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import claims_repository as c
from chalicelib.adapters import models as m
from chalicelib.adapters.audit_repository import FREE_TEXT_EVENTS, FREE_TEXT_KEYS
from chalicelib.adapters.clients_repository import with_ended_at
from chalicelib.adapters.keys import contact_key
from chalicelib.adapters.unit_of_work import AlreadyFiled, ConcurrentUpdate, Duplicate
from chalicelib.domain.audit import AuditEvent
from chalicelib.domain.caseload import activity_at
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import Conflict
from chalicelib.domain.followups import FollowupKind
from chalicelib.domain.inbound import Refusal
from chalicelib.domain.messages import Direction, Message, MessageRef, MessageStatus
from chalicelib.domain.model import Channel, Client, ClientStatus, Consent, WorkNumber
from chalicelib.domain.notes import Note
from chalicelib.domain.reporting import AuditRecord
from chalicelib.domain.snippets import Snippet
from tests.unit.casework_fakes import FakeNotes, FakeSnippets
from tests.unit.fake_caseload import CaseloadReads


@dataclass
class World:
    clients: dict[str, Client] = field(default_factory=dict)
    numbers: list[WorkNumber] = field(default_factory=list)
    staff: Any = None  # an object with get(agency, staff_id) and list(agency)
    audit: list[AuditEvent] = field(default_factory=list)
    claims: dict[str, Claim] = field(default_factory=dict)  # the claims table: key -> claim
    messages: list[Message] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)  # what happened to automated sends, in order
    followup_rows: list[Message] = field(default_factory=list)  # the workers' follow-up lists
    contacts: dict[str, str] = field(default_factory=dict)  # the contacts table: contact key -> client id
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # client id -> item attributes beyond Client
    notes: list[Note] = field(default_factory=list)  # private case notes (casework_fakes.FakeNotes)
    snippets: dict[tuple[str, str], Snippet] = field(default_factory=dict)  # (agency, snippet id) -> snippet
    snippets_seeded: set[str] = field(default_factory=set)  # agencies whose holding replies were seeded

    def __post_init__(self) -> None:
        for client in list(self.clients.values()):
            self.file(client)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def file(self, client: Client, **attributes: Any) -> Client:
        """Seed a file as the services would have left it in the table.

        Its contact row, and the item attributes its values imply: a scheduled follow-up, check-in
        or survey carries its sparse index key (``followup_agency``...), an ended file ``ended_at``.
        ``attributes`` add to or override them (``None`` leaves one out).
        """
        self.clients[client.client_id] = client
        if client.phone:
            self.contacts.setdefault(contact_key(client.agency_id, client.channel, client.phone), client.client_id)
        implied: dict[str, Any] = {key: client.agency_id for key, at in (
            ("followup_agency", client.next_followup_at), ("checkin_agency", client.next_checkin_at),
            ("survey_agency", client.next_survey_at)) if at is not None}
        if client.ended_at is not None and client.erased_at is None:
            implied["ended_at"] = client.ended_at
        implied.update(attributes)
        self.stored[client.client_id] = {k: v for k, v in implied.items() if v is not None}
        return client


# What the table holds for an attribute set to None (``change_actions`` removes it) and
# ``client_from`` reads back: the empty value of the domain's type.
_CLIENT_FIELDS = frozenset(f.name for f in fields(Client))
_ITEM_ATTRIBUTES = frozenset(m.ClientModel.get_attributes())
_EMPTY: dict[str, Any] = {"phone": "", "name": "", "warnings": 0, "flagged_for_meeting": False, "opted_out": False,
                          "referrals": (), "consent": Consent()}
_ENUMS: dict[str, Any] = {"status": ClientStatus, "channel": Channel}
# Index keys a sparse index is read by (``ClientRepository.due_ids``), with the instant it ranges over.
_DUE_INDEXES = (("followup_agency", "next_followup_at"), ("checkin_agency", "next_checkin_at"),
                ("survey_agency", "next_survey_at"))


def _changed(client: Client, stored: dict[str, Any], changes: dict[str, Any]) -> tuple[Client, dict[str, Any]]:
    """The file and its other attributes after ``changes``, as ``ClientRepository.update`` writes them."""
    changes = with_ended_at(client, changes)
    unknown = sorted(set(changes) - _ITEM_ATTRIBUTES)
    if unknown:  # the real repository fails on them too (getattr on ClientModel)
        raise AttributeError(f"the clients table has no attribute {unknown}")
    on_file: dict[str, Any] = {}
    kept = dict(stored)
    for name, value in changes.items():
        if name in _CLIENT_FIELDS:
            if value is None:
                value = _EMPTY.get(name)
            elif name in _ENUMS and not isinstance(value, _ENUMS[name]):
                value = _ENUMS[name](value)
            on_file[name] = value
        elif value is None:
            kept.pop(name, None)
        else:
            kept[name] = value
    if (at := activity_at(changes, utcnow())) is not None:  # what ClientRepository.caseload_actions writes
        on_file["last_activity_at"] = at
    return replace(client, **on_file, version=client.version + 1), kept


def _as_added(client: Client) -> Client:
    """What ``ClientRepository.add`` writes of a new file (PynamoDB's first version is 1)."""
    return Client(client.client_id, client.agency_id, client.case_manager_id, client.phone, client.channel,
                  client.language, client.name, client.status, client.created_at, consent=client.consent, version=1,
                  last_activity_at=client.created_at)


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
        self.notes = FakeNotes(self)
        self.snippets = FakeSnippets(self)

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


class _Clients(CaseloadReads):
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def get(self, client_id: str) -> Client | None:
        return self._world.clients.get(client_id)

    def id_for(self, agency_id: str, channel: Channel, phone: str) -> str | None:
        return self._world.contacts.get(contact_key(agency_id, channel, phone))

    def find(self, agency_id: str, channel: Channel, phone: str) -> Client | None:
        client_id = self.id_for(agency_id, channel, phone)
        return self.get(client_id) if client_id else None

    def many(self, ids: Iterable[str]) -> dict[str, Client]:
        return {i: self._world.clients[i] for i in set(ids) if i in self._world.clients}

    def of_case_manager(self, agency_id: str, staff_id: str) -> list[Client]:
        return [c for c in self._world.clients.values() if (c.agency_id, c.case_manager_id) == (agency_id, staff_id)]

    def of_agency(self, agency_id: str) -> list[Client]:
        return [c for c in self._world.clients.values() if c.agency_id == agency_id]

    def _index(self, key: str, agency_id: str, instant: str, upto: datetime) -> list[Client]:
        """A sparse index: the files carrying ``key`` = ``agency_id``, by ``instant`` <= ``upto``."""
        found = [c for c in self._world.clients.values()
                 if self._world.stored.get(c.client_id, {}).get(key) == agency_id
                 and self._instant(c, instant) is not None and self._instant(c, instant) <= upto]
        return sorted(found, key=lambda c: self._instant(c, instant))

    def _instant(self, client: Client, name: str) -> datetime | None:
        if name in _CLIENT_FIELDS:
            return getattr(client, name)
        return self._world.stored.get(client.client_id, {}).get(name)

    def due_ids(self, agency_id: str, now: datetime) -> list[str]:
        seen: dict[str, None] = {}
        for key, instant in _DUE_INDEXES:
            for client in self._index(key, agency_id, instant, now):
                seen.setdefault(client.client_id, None)
        return list(seen)

    def last_inbound(self, client_ids: Iterable[str]) -> dict[str, datetime | None]:
        return {i: self._world.clients[i].last_inbound_at for i in client_ids if i in self._world.clients}

    def closed_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        closed = [(c.closed_at, c.client_id) for c in self.of_agency(agency_id)
                  if c.status is ClientStatus.CLOSED and c.erased_at is None]
        return [cid for at, cid in sorted(closed) if at is not None and at <= cutoff]

    def ended_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        ended = [(self._instant(c, "ended_at"), c.client_id) for c in self.of_agency(agency_id) if c.erased_at is None]
        return [cid for at, cid in sorted(ended, key=lambda e: (e[0] is None, e)) if at is not None and at <= cutoff]

    def add(self, client: Client, created_by: str) -> None:
        key = contact_key(client.agency_id, client.channel, client.phone)

        def check() -> None:
            if key in self._world.contacts:
                raise Conflict("a client file already exists for this phone number and channel", code="client_exists")
            if client.client_id in self._world.clients:
                raise ConcurrentUpdate(client.client_id)

        def apply() -> None:
            self._world.clients[client.client_id] = _as_added(client)
            self._world.stored[client.client_id] = {}
            self._world.contacts[key] = client.client_id

        self._uow.queue(apply, check)

    def update(self, client: Client, changes: dict[str, Any]) -> None:
        def check() -> None:
            current = self._world.clients.get(client.client_id)
            if current is None or current.version != client.version:
                raise ConcurrentUpdate(client.client_id)

        def apply() -> None:
            cid = client.client_id
            self._world.clients[cid], self._world.stored[cid] = _changed(
                self._world.clients[cid], self._world.stored.get(cid, {}), changes)

        _changed(client, {}, changes)  # an attribute the table lacks fails here, like building the actions
        self._uow.queue(apply, check)

    def forget_contact(self, client: Client) -> None:
        """The contact row goes, only while it is still this file's (else the commit fails)."""
        if not client.phone:
            return
        key = contact_key(client.agency_id, client.channel, client.phone)

        def check() -> None:
            if self._world.contacts.get(key, client.client_id) != client.client_id:
                raise ConcurrentUpdate(client.client_id)

        self._uow.queue(lambda: self._world.contacts.pop(key, None), check)


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

    def of_client(self, client_id: str, before: datetime | None = None) -> list[AuditRecord]:
        events = sorted((e for e in self._world.audit if e.client_id == client_id and (before is None or e.at < before)),
                        key=lambda e: (e.at, e.event_id))
        return [AuditRecord(event_id=e.event_id, type=e.type.value, at=e.at, actor=e.actor, staff_id=e.staff_id,
                            client_id=e.client_id, details={k: v for k, v in e.details.items() if v is not None})
                for e in events]

    def erase_free_text(self, client_id: str) -> None:
        """Free text staff wrote about the client goes from its audit events (now, like the real one)."""
        self._world.audit = [
            replace(e, details={k: v for k, v in e.details.items() if k not in FREE_TEXT_KEYS})
            if e.client_id == client_id and e.type.value in FREE_TEXT_EVENTS else e
            for e in self._world.audit
        ]


@dataclass(frozen=True)
class Claim:
    """A claims item: when it was taken, by what (``ref``), the request's digest, a bucket's count."""

    at: datetime
    ref: str | None = None
    fingerprint: str | None = None
    count: int = 0


class _Claims:
    """``ClaimRepository``: the same keys (its key functions), the same meaning of a taken claim.

    What expires by TTL in DynamoDB stays here: no test lives long enough to see a claim expire.
    """

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def file_inbound_once(self, message_sid: str, at: datetime) -> None:
        self._add(c.sid_key(message_sid), at, Duplicate)

    def refuse_once(self, refusal: Refusal, message_sid: str, at: datetime) -> None:
        self._add(c.refusal_key(refusal, message_sid), at, Duplicate)

    def reply_to_sender_once(self, sender: str, template: str, window: timedelta, at: datetime) -> bool:
        return self._once(c.intake_key(sender, template, window, at), at)

    def alert_crisis_once(self, client_id: str, period: str, at: datetime) -> bool:
        return self._once(c.crisis_key(client_id, period), at)

    def alert_voice_note_once(self, client_id: str, period: str, at: datetime) -> bool:
        return self._once(c.voice_note_key(client_id, period), at)

    def remember_send(self, message_id: str, fingerprint: str | None, at: datetime) -> None:
        self._add(c.send_key(message_id), at, AlreadyFiled, ref=message_id, fingerprint=fingerprint)

    def send_fingerprint(self, message_id: str) -> str | None:
        found = self._world.claims.get(c.send_key(message_id))
        return found.fingerprint if found is not None else None

    def release_for_erasure(self, messages: Iterable[Message]) -> None:
        messages = list(messages)
        for key in [*(c.sid_key(msg.twilio_sid) for msg in messages if msg.twilio_sid),
                    *(c.send_key(msg.message_id) for msg in messages if msg.is_staff)]:
            self._world.claims.pop(key, None)

    def claim_followup(self, kind: FollowupKind, client_id: str, period: str, message_id: str, at: datetime) -> None:
        self._add(c.followup_key(kind, client_id, period), at, Duplicate, ref=message_id)

    def take_post_slot(self, agency_id: str, now: datetime, per_second: int) -> bool:
        key = c.post_slot_key(agency_id, now)
        count = self._world.claims[key].count if key in self._world.claims else 0
        if count >= per_second:
            return False
        self._world.claims[key] = Claim(now, count=count + 1)
        return True

    def found_agency(self, agency_id: str, founder_id: str, at: datetime, on_taken: Callable[[], Exception]) -> None:
        self._add(c.founding_key(agency_id), at, on_taken, ref=founder_id)

    def mark_reviewed(self, agency_id: str, event_id: str, reviewer_id: str, at: datetime,
                      on_taken: Callable[[], Exception]) -> None:
        self._add(c.review_key(agency_id, event_id), at, on_taken, ref=reviewer_id)

    def reviews(self, agency_id: str, event_ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
        found = {e: self._world.claims.get(c.review_key(agency_id, e)) for e in event_ids}
        return {e: (claim.at, claim.ref or "") for e, claim in found.items() if claim is not None}

    def _add(self, key: str, at: datetime, exception: Callable[[], Exception], *, ref: str | None = None,
             fingerprint: str | None = None) -> None:
        def check() -> None:
            if key in self._world.claims:
                raise exception()

        def apply() -> None:
            self._world.claims[key] = Claim(at, ref, fingerprint)

        self._uow.queue(apply, check)

    def _once(self, key: str, at: datetime) -> bool:
        if key in self._world.claims:
            return False
        self._add(key, at, ConcurrentUpdate)
        return True


class _Messages:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow, self._world = uow, uow.world

    def of_client(self, client_id: str, *, consistent: bool = False) -> list[Message]:
        return [m for m in self._world.messages if m.client_id == client_id]

    def get(self, ref: MessageRef) -> Message | None:
        """The message of that file with that id written at that instant (its key: ``keys.message_key``)."""
        return next((m for m in self._world.messages if m.ref == ref), None)

    def due(self, agency_id: str, now: datetime) -> list[MessageRef]:
        """The sparse ``outbound_due`` index: waiting (or sending) outbound messages due by ``now``."""
        due = [m for m in self._world.messages
               if m.agency_id == agency_id and m.direction is Direction.OUTBOUND and m.due_at is not None
               and m.status in (MessageStatus.HELD, MessageStatus.QUEUED, MessageStatus.SENDING) and m.due_at <= now]
        return [m.ref for m in sorted(due, key=lambda m: m.due_at or now)]

    def bodies(self, refs: Iterable[MessageRef]) -> dict[MessageRef, str | None]:
        found = {ref: self.get(ref) for ref in refs}
        return {ref: message.body for ref, message in found.items() if message is not None}

    def add(self, message: Message) -> None:
        self._uow.queue(lambda: self._world.messages.append(message))

    def erase(self, message: Message) -> None:
        """Body, media, location, button, MessageSid and override reason go; out of every queue."""
        self._world.messages = [
            replace(x, body=None, media=(), twilio_sid=None, override_reason=None, due_at=None,
                    content=replace(x.content, location=None, button=None))
            if x.message_id == message.message_id and x.client_id == message.client_id else x
            for x in self._world.messages
        ]

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
