"""The clients and contacts tables: the only code that maps a client file to ``Client`` and back.

A file and its contact row (``agency#channel#phone`` -> client id) are one aggregate: they are
created together, the contact row is how an inbound message finds its file, and erasure removes it.
Changes are conditional on the version read, except where a filing must not fight another filing
of the same client (``filing_condition``). Every read is keyed: the file, the contact row, or one of
the clients table's indexes queried for one agency or one case manager.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist

from ..domain.caseload import STATE_INPUTS, FileState, Page, activity_at, file_state, search_terms
from ..domain.clock import utcnow
from ..domain.errors import Conflict
from ..domain.filing import ClientSnapshot, InboundFiling
from ..domain.model import Channel, Client, ClientStatus, Consent, ConsentState, EmergencyContact, Referral
from . import models as m
from .keys import agency_staff, contact_key, search_key, state_key
from .writes import WriteQueue, raises

if TYPE_CHECKING:
    from ..domain.inbox import Waiting
    from .caseload_pages import Partition


# Client attributes a filing writes without a condition: instants of activity, last writer wins
# (a burst's messages are milliseconds apart, and nothing is decided from the exact value).
# The inbox's preview of the last message is one of those too.
UNGUARDED = frozenset({"last_inbound_at", "last_inbound_preview"})
# Attributes decided from the value read: written only while they still hold that value.
GUARDED = frozenset({"last_auto_reply_period", "last_survey_scored_at", "open_inquiry_id", "open_inquiry_due_at",
                     "open_inquiry_opened_at", "crisis_at"})
_ENDING_FIELDS = ("status", "closed_at", "consent", "opted_out", "opted_out_at")


# --- mapping -------------------------------------------------------------------------------------


def _consent_from(item: m.ConsentMap | None) -> Consent:
    if item is None:
        return Consent()
    return Consent(
        state=ConsentState(item.state or "none"),
        form_version=item.form_version,
        signed_at=item.signed_at,
        channels=frozenset(Channel(c) for c in (item.channels or [])),
        circle_of_care=tuple(item.circle_of_care or ()),
        posts=bool(item.posts),
        recorded_at=item.recorded_at,
        recorded_by=item.recorded_by,
        withdrawn_at=item.withdrawn_at,
        withdrawn_reason=item.withdrawn_reason,
    )


def _consent_item(consent: Consent) -> m.ConsentMap:
    return m.ConsentMap(
        state=consent.state.value,
        form_version=consent.form_version,
        signed_at=consent.signed_at,
        channels=sorted(c.value for c in consent.channels),
        circle_of_care=list(consent.circle_of_care),
        posts=consent.posts,
        recorded_at=consent.recorded_at,
        recorded_by=consent.recorded_by,
        withdrawn_at=consent.withdrawn_at,
        withdrawn_reason=consent.withdrawn_reason,
    )


def _referral_item(r: Referral) -> m.ReferralMap:
    return m.ReferralMap(referral_id=r.referral_id, at=r.at, by=r.by, to=r.to, service=r.service, note=r.note)


def client_from(item: m.ClientModel) -> Client:
    return Client(
        client_id=item.client_id,
        agency_id=item.agency_id,
        case_manager_id=item.case_manager_id,
        phone=item.phone or "",
        channel=Channel(item.channel),
        language=item.language,
        name=item.name or "",
        status=ClientStatus(item.status),
        created_at=item.created_at,
        consent=_consent_from(item.consent),
        opted_out=bool(item.opted_out),
        open_inquiry_id=item.open_inquiry_id,
        next_followup_at=item.next_followup_at,
        last_inbound_at=item.last_inbound_at,
        erased_at=item.erased_at,
        last_outbound_at=item.last_outbound_at,
        next_checkin_at=item.next_checkin_at,
        next_survey_at=item.next_survey_at,
        last_survey_at=item.last_survey_at,
        warnings=int(item.warnings or 0),
        flagged_for_meeting=bool(item.flagged_for_meeting),
        status_reason=item.status_reason,
        closed_at=item.closed_at,
        referrals=tuple(
            Referral(referral_id=r.referral_id, at=r.at, by=r.by, to=r.to, service=r.service, note=r.note)
            for r in (item.referrals or [])
        ),
        version=item.version or 0,
        opted_out_at=item.opted_out_at,
        last_activity_at=item.last_activity_at or item.created_at,
        crisis_at=item.crisis_at,
        emergency_contact=_contact_from(item.emergency_contact),
    )


def _contact_from(item: Any) -> EmergencyContact | None:
    raw = item.as_dict() if hasattr(item, "as_dict") else item
    if not raw:
        return None
    return EmergencyContact(name=raw.get("name", ""), phone=raw.get("phone", ""), relation=raw.get("relation", ""))


def _waiting_from(item: m.ClientModel) -> Waiting:
    from ..domain.inbox import Waiting  # the inbox only: the inbound path never loads it

    return Waiting(
        client_id=item.client_id,
        case_manager_id=item.case_manager_id,
        name=item.name or "",
        channel=item.channel,
        language=item.language,
        due_at=item.open_inquiry_due_at,
        opened_at=item.open_inquiry_opened_at,
        last_inbound_at=item.last_inbound_at,
        preview=item.last_inbound_preview,
        opted_out=bool(item.opted_out),
        status=item.status or "active",
        crisis_at=item.crisis_at,
    )


def change_actions(client: Client, changes: Mapping[str, Any]) -> list[Any]:
    """Attribute updates on one client item, from domain values (``None`` removes the attribute)."""
    if "case_manager_id" in changes:  # the by_case_manager index key moves with the case manager
        changes = {**changes, "agency_staff": agency_staff(client.agency_id, changes["case_manager_id"])}
    actions = []
    for name, value in changes.items():
        attr = getattr(m.ClientModel, name)
        if isinstance(value, Consent):
            value = _consent_item(value)
        elif name == "referrals" and value is not None:
            value = [_referral_item(r) for r in value]
        elif isinstance(value, EmergencyContact):
            value = {"name": value.name, "phone": value.phone, "relation": value.relation}
        elif isinstance(value, enum.Enum):
            value = value.value
        actions.append(attr.remove() if value is None else attr.set(value))
    return actions


def with_ended_at(client: Client, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` plus the file's new ``ended_at`` when they touch what ends a file (SPEC §5.7).

    Closing, withdrawing consent and STOP end a file for retention from that moment; re-opening,
    consent given again and START take it back out of the ``ended_files`` index.
    """
    changes = dict(changes)
    if "ended_at" in changes or not any(k in changes for k in _ENDING_FIELDS):
        return changes
    known = {k: v for k, v in changes.items() if k in _ENDING_FIELDS}
    if isinstance(known.get("status"), str):
        known["status"] = ClientStatus(known["status"])
    return {**changes, "ended_at": replace(client, **known).ended_at}


# --- the closed-files index: what a status change must write --------------------------------------


def closing_changes(at: datetime) -> dict[str, Any]:
    """Client attributes to set when a file is closed (puts it in the ``closed_files`` index)."""
    return {"status": ClientStatus.CLOSED, "closed_at": at}


def reopening_changes(status: ClientStatus = ClientStatus.ACTIVE) -> dict[str, Any]:
    """Client attributes to set when a closed file is re-opened (takes it out of the index)."""
    return {"status": status, "closed_at": None}


# --- GET /clients: the caseload indexes and the search items (issue 22) ----------------------------


def state_keys(client: Client) -> tuple[str, str]:
    """The file's ``caseload_state`` and ``agency_state`` partitions (``domain.caseload.file_state``)."""
    state = file_state(client).value
    return state_key(client.agency_id, client.case_manager_id, state), state_key(client.agency_id, None, state)


def _after(client: Client, changes: Mapping[str, Any]) -> Client:
    """The file as ``changes`` leave it, as far as its state goes."""
    known = {name: changes[name] for name in STATE_INPUTS if name in changes}
    if isinstance(known.get("status"), str):
        known["status"] = ClientStatus(known["status"])
    if "opted_out" in known:
        known["opted_out"] = bool(known["opted_out"])
    if "consent" in known and known["consent"] is None:
        known["consent"] = Consent()
    return replace(client, **known)


def caseload_actions(client: Client, changes: Mapping[str, Any], now: datetime) -> list[Any]:
    """What the caseload indexes need of a write of ``changes``, in that same write.

    ``last_activity_at`` moves with activity (``domain.caseload.activity_at``), the state keys with
    what decides the state; a write that moves neither still gives a file written before they
    existed its keys (``if_not_exists``: activity from ``created_at``). Erasure removes them all:
    the file leaves every listing.
    """
    c = m.ClientModel
    if changes.get("erased_at") is not None:
        return [c.last_activity_at.remove(), c.state_staff.remove(), c.state_agency.remove(), c.search_terms.remove()]
    staff_key, agency_key = state_keys(_after(client, changes))
    at = activity_at(changes, now)
    actions = [c.last_activity_at.set(at if at is not None else c.last_activity_at | client.created_at)]
    if STATE_INPUTS & changes.keys():
        return [*actions, c.state_staff.set(staff_key), c.state_agency.set(agency_key)]
    return [*actions, c.state_staff.set(c.state_staff | staff_key), c.state_agency.set(c.state_agency | agency_key)]


def _search_item(client: Client, term: str, staff_id: str | None = None) -> m.SearchModel:
    return m.SearchModel(term_key=search_key(client.agency_id, None, term), client_id=client.client_id,
                         staff_term=search_key(client.agency_id, staff_id or client.case_manager_id, term))


def _activity_partitions(agency_id: str, staff_ids: Iterable[str] | None,
                         states: frozenset[FileState] | None) -> list[Partition]:
    from .caseload_pages import Partition  # GET /clients only: the inbound path never loads it

    c = m.ClientModel
    varying = (("last_activity_at", c.last_activity_at), ("client_id", c.client_id))
    found = []
    for staff in staff_ids if staff_ids is not None else (None,):
        for state in sorted(s.value for s in states) if states is not None else (None,):
            if state is None:
                index, name = (c.caseload, "agency_staff") if staff else (c.agency_caseload, "agency_id")
                value = agency_staff(agency_id, staff) if staff else agency_id
            else:
                index, name = (c.caseload_state, "state_staff") if staff else (c.agency_state, "state_agency")
                value = state_key(agency_id, staff, state)
            found.append(Partition(index, value, {name: value}, varying, "last_activity_at"))
    return found


def _search_partitions(agency_id: str, staff_ids: Iterable[str] | None, term: str) -> list[Partition]:
    from .caseload_pages import Partition

    s = m.SearchModel
    term_key = search_key(agency_id, None, term)
    varying = (("client_id", s.client_id),)
    if staff_ids is None:
        return [Partition(s, term_key, {"term_key": term_key}, varying, "client_id")]
    return [Partition(s.by_staff_term, key, {"staff_term": key, "term_key": term_key}, varying, "client_id")
            for key in (search_key(agency_id, staff, term) for staff in staff_ids)]


def _still(attr: Any, value: Any) -> Any:
    return attr.does_not_exist() if value is None else attr == value


def filing_condition(filing: InboundFiling) -> tuple[Any, bool]:
    """The condition on the client item for one filing, and whether it also needs the version.

    Filing a message must not conflict with filing another from the same client (WhatsApp sends a
    webhook per photo), so the file's version is a condition only for changes decided from the
    whole file (opt-out, opt-in). Otherwise the write holds only what the decision relied on: the
    file is still active and consented as read (a concurrent closure or withdrawal wins), an
    inquiry is opened only while none is open, a message joins an inquiry only while it is open, and
    one automatic reply per period and one score per survey are each claimed by exactly one message.
    """
    client = filing.client
    assert client is not None
    changes = filing.client_changes
    c = m.ClientModel
    condition = (c.client_id.exists() & (c.status == client.status.value)
                 & (c.consent.state == client.consent.state.value) & c.erased_at.does_not_exist())
    if "open_inquiry_id" in changes:
        condition &= _still(c.open_inquiry_id, client.open_inquiry_id)
    elif filing.joined_inquiry_id is not None:
        condition &= c.open_inquiry_id == filing.joined_inquiry_id
    if "last_auto_reply_period" in changes:
        condition &= _still(c.last_auto_reply_period, filing.read_auto_reply_period)
    if "last_survey_scored_at" in changes:
        condition &= _still(c.last_survey_scored_at, filing.read_survey_scored_at)
    if "crisis_at" in changes:  # one filing announces a crisis; a concurrent one reads it again
        condition &= _still(c.crisis_at, client.crisis_at)
    if "opted_out" not in changes:
        still_opted = c.opted_out == client.opted_out
        condition &= still_opted if client.opted_out else (still_opted | c.opted_out.does_not_exist())
    versioned = any(name not in UNGUARDED and name not in GUARDED for name in changes)
    return condition, versioned


def _client_exists() -> Exception:
    return Conflict("a client file already exists for this phone number and channel", code="client_exists")


class ClientRepository:
    def __init__(self, uow: WriteQueue) -> None:
        self._uow = uow

    # -- reads ----------------------------------------------------------------------------------

    def get(self, client_id: str) -> Client | None:
        try:
            return client_from(m.ClientModel.get(client_id, consistent_read=True))
        except DoesNotExist:
            return None

    def snapshot(self, client_id: str) -> ClientSnapshot | None:
        """The file with what only the inbound path reads of it (its last automatic reply and score)."""
        try:
            item = m.ClientModel.get(client_id, consistent_read=True)
        except DoesNotExist:
            return None
        return ClientSnapshot(client_from(item), item.last_auto_reply_period, item.last_survey_scored_at)

    def id_for(self, agency_id: str, channel: Channel, phone: str) -> str | None:
        """Whose file this sender is, to this agency (the contact row: one GetItem)."""
        try:
            return m.ContactModel.get(contact_key(agency_id, channel, phone), consistent_read=True).client_id
        except DoesNotExist:
            return None

    def find(self, agency_id: str, channel: Channel, phone: str) -> Client | None:
        client_id = self.id_for(agency_id, channel, phone)
        return self.get(client_id) if client_id else None

    def many(self, ids: Iterable[str]) -> dict[str, Client]:
        keys = sorted(set(ids))
        return {item.client_id: client_from(item) for item in m.ClientModel.batch_get(keys)}

    def last_inbound(self, client_ids: Iterable[str]) -> dict[str, datetime | None]:
        """``last_inbound_at`` of each file, in BatchGets of up to 100 keys."""
        ids = list(dict.fromkeys(client_ids))
        items = m.ClientModel.batch_get(ids, attributes_to_get=["client_id", "last_inbound_at"])
        return {item.client_id: item.last_inbound_at for item in items}

    def of_case_manager(self, agency_id: str, staff_id: str) -> Iterator[Client]:
        for item in m.ClientModel.by_case_manager.query(agency_staff(agency_id, staff_id)):
            yield client_from(item)

    def of_agency(self, agency_id: str, created_before: datetime | None = None) -> Iterator[Client]:
        condition = m.ClientModel.created_at < created_before if created_before is not None else None
        for item in m.ClientModel.by_agency.query(agency_id, condition):
            yield client_from(item)

    def waiting(self, agency_id: str, staff_id: str) -> Iterator[Waiting]:
        """One case manager's files with an open inquiry, soonest due first: one Query (paged by 1 MB)."""
        for item in m.ClientModel.waiting.query(agency_staff(agency_id, staff_id), scan_index_forward=True):
            if item.erased_at is None:
                yield _waiting_from(item)

    def caseload(self, agency_id: str, staff_ids: Iterable[str] | None, states: frozenset[FileState] | None,
                 after: str | None, limit: int) -> Page[Client]:
        """A page of the files of ``staff_ids`` (None: the agency's), in ``states`` (None: any), most
        recent activity first: one Query per case manager and state, then one BatchGet."""
        from .caseload_pages import read_page

        keys, cursor = read_page(_activity_partitions(agency_id, staff_ids, states), after, limit, descending=True)
        return Page(self._files([k.client_id for k in keys]), cursor)

    def search(self, agency_id: str, staff_ids: Iterable[str] | None, term: str, after: str | None,
               limit: int) -> Page[Client]:
        """A page of the files of ``staff_ids`` (None: the agency's) found by ``term``
        (``domain.caseload.search_terms``): one Query per case manager, then one BatchGet."""
        from .caseload_pages import read_page

        keys, cursor = read_page(_search_partitions(agency_id, staff_ids, term), after, limit, descending=False)
        return Page(self._files([k.client_id for k in keys]), cursor)

    def _files(self, ids: list[str]) -> tuple[Client, ...]:
        found = self.many(ids) if ids else {}
        return tuple(found[i] for i in ids if i in found and not found[i].status_erased())

    def due_ids(self, agency_id: str, now: datetime) -> list[str]:
        """Clients of ``agency_id`` with a follow-up, check-in or survey due at or before ``now``."""
        seen: dict[str, None] = {}
        for index, attr in (
            (m.ClientModel.followups_due, m.ClientModel.next_followup_at),
            (m.ClientModel.checkins_due, m.ClientModel.next_checkin_at),
            (m.ClientModel.surveys_due, m.ClientModel.next_survey_at),
        ):
            for item in index.query(agency_id, attr <= now):
                seen.setdefault(item.client_id, None)
        return list(seen)

    def closed_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        """Ids of closed, not yet erased files of the agency closed at or before ``cutoff``."""
        items = m.ClientModel.closed_files.query(agency_id, m.ClientModel.closed_at <= cutoff)
        return [i.client_id for i in items if i.status == ClientStatus.CLOSED.value and i.erased_at is None]

    def ended_before(self, agency_id: str, cutoff: datetime) -> list[str]:
        """Ids of not yet erased files that ended (closed, withdrawn, opted out) at or before ``cutoff``."""
        items = m.ClientModel.ended_files.query(agency_id, m.ClientModel.ended_at <= cutoff)
        return [i.client_id for i in items if i.erased_at is None]

    # -- writes (queued on the unit of work) ------------------------------------------------------

    def add(self, client: Client, created_by: str) -> None:
        """A new file and its contact row; committing raises ``Conflict`` when the contact is taken."""
        item = m.ClientModel(
            client_id=client.client_id,
            agency_id=client.agency_id,
            case_manager_id=client.case_manager_id,
            agency_staff=agency_staff(client.agency_id, client.case_manager_id),
            phone=client.phone,
            channel=client.channel.value,
            language=client.language,
            name=client.name,
            status=client.status.value,
            created_at=client.created_at,
            created_by=created_by,
            consent=_consent_item(client.consent),
        )
        terms = search_terms(client.name, client.phone)
        item.last_activity_at = client.created_at  # intake is the file's first activity
        item.state_staff, item.state_agency = state_keys(client)
        item.search_terms = set(terms) or None
        contact = m.ContactModel(
            contact_key=contact_key(client.agency_id, client.channel, client.phone),
            client_id=client.client_id,
            agency_id=client.agency_id,
        )
        self._uow.save(item, condition=m.ClientModel.client_id.does_not_exist())
        self._uow.save(contact, condition=m.ContactModel.contact_key.does_not_exist(),
                       on_conflict=raises(_client_exists))
        for term in sorted(terms):
            self._uow.save(_search_item(client, term))

    def update(self, client: Client, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` if the file is still at ``client.version`` (else ``ConcurrentUpdate``)."""
        # PynamoDB adds "version = <read version>" as the condition and increments it.
        self._uow.update(m.ClientModel(client_id=client.client_id, version=client.version),
                         actions=[*change_actions(client, with_ended_at(client, changes)),
                                  *caseload_actions(client, changes, utcnow())],
                         condition=m.ClientModel.client_id.exists())
        moved_to = changes.get("case_manager_id", client.case_manager_id)
        if moved_to != client.case_manager_id:  # the search items follow the file to its new worker
            for term in sorted(search_terms(client.name, client.phone)):
                item = _search_item(client, term, moved_to)
                self._uow.update(m.SearchModel(term_key=item.term_key, client_id=item.client_id),
                                 actions=[m.SearchModel.staff_term.set(item.staff_term)], add_version_condition=False)

    def file(self, filing: InboundFiling) -> None:
        """An inbound filing's changes to the file, held only by what its decision relied on."""
        assert filing.client is not None
        condition, versioned = filing_condition(filing)
        changes = with_ended_at(filing.client, filing.client_changes)  # STOP ends it (§5.7)
        self._uow.update(m.ClientModel(client_id=filing.client.client_id, version=filing.client.version),
                         actions=[*change_actions(filing.client, changes),
                                  *caseload_actions(filing.client, filing.client_changes, utcnow())],
                         condition=condition, add_version_condition=versioned)

    def forget_contact(self, client: Client) -> None:
        """Erasure: the sender no longer finds this file (only while the row is still this file's)."""
        if client.phone:
            self._uow.delete(
                m.ContactModel(contact_key=contact_key(client.agency_id, client.channel, client.phone)),
                condition=m.ContactModel.contact_key.does_not_exist() | (m.ContactModel.client_id == client.client_id),
            )

    def forget_search(self, client: Client) -> None:
        """Erasure: nothing finds the file any more; its search items go with the unit of work."""
        try:
            stored = m.ClientModel.get(client.client_id, consistent_read=True, attributes_to_get=["search_terms"])
            terms = set(stored.search_terms or ())
        except DoesNotExist:
            terms = set()
        for term in sorted(terms | search_terms(client.name, client.phone)):
            self._uow.delete(m.SearchModel(term_key=search_key(client.agency_id, None, term),
                                           client_id=client.client_id))

    def reindex(self, client_id: str) -> bool:
        """Give a file written before GET /clients its caseload keys and search items (idempotent;
        ``cli reindex-clients``), conditioned on the version read. False: no such file, or erased."""
        try:
            item = m.ClientModel.get(client_id, consistent_read=True)
        except DoesNotExist:
            return False
        client = client_from(item)
        if client.status_erased():
            return False
        c = m.ClientModel
        terms = search_terms(client.name, client.phone)
        staff_key, agency_key = state_keys(client)
        last = item.last_activity_at or max(t for t in (
            client.created_at, client.last_inbound_at, client.last_outbound_at, client.consent.recorded_at,
            client.consent.withdrawn_at, client.closed_at, client.opted_out_at) if t is not None)
        actions = [c.last_activity_at.set(last), c.state_staff.set(staff_key), c.state_agency.set(agency_key),
                   c.search_terms.set(set(terms)) if terms else c.search_terms.remove()]
        self._uow.update(c(client_id=client.client_id, version=client.version), actions=actions,
                         condition=c.client_id.exists())
        for term in sorted(terms):
            self._uow.save(_search_item(client, term))
        return True
